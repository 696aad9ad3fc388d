// Chaos on two nodes sharing a real Redis: abrupt client drops while publishing, and each node in turn killed with
// SIGKILL while its clients move to the other one, then started again. See test/chaos/run.ts.
import { it } from 'vitest';
import { unique } from './helpers';
import { chaos, chaosTimeout, cleanup, serverArgs } from './chaos/run';
import { sleep } from './chaos/harness';
import { HeraldNode, RedisServer } from './chaos/processes';

it(
  'Redis: no acknowledged publication or inbox entry is lost or duplicated while nodes are killed and their clients move to the other',
  async () => {
    const redis = await RedisServer.start();
    cleanup(() => redis.stop());
    const args = [...serverArgs, '--engine', 'redis', '--redis', `127.0.0.1:${redis.port}`, '--redis-prefix', unique('chaos')];
    const nodes = [await HeraldNode.create('node-a', args), await HeraldNode.create('node-b', args)];
    for (const node of nodes) cleanup(() => node.stop());
    await Promise.all(nodes.map((node) => node.start()));
    await chaos({
      nodes,
      // Half the clients prefer each node, as behind a load balancer; a client whose node is down goes to the other.
      pickUrl: (i) => (nodes[i % 2].running ? nodes[i % 2] : nodes[(i + 1) % 2]).url,
      kill: async (round, run) => {
        const victim = nodes[(round - 1) % 2];
        await victim.kill();
        // Its clients reconnect to the other node meanwhile; then it comes back for the next round.
        await sleep(500 + run.random() * 1000);
        await victim.start();
      },
    });
  },
  chaosTimeout,
);
