// Chaos tests against the real server: 12 SDK clients on one history channel while a backend publishes numbered
// messages over HTTP, random client sockets are cut without a close frame, and servers are killed with SIGKILL and
// restarted. Each client must end up with every acknowledged publication and inbox entry exactly once, in order.
// A failure prints its seed: HERALD_CHAOS_SEED=<seed> npx vitest run test/chaos.test.ts replays the same choices.
import { afterEach, describe, expect, it } from 'vitest';
import { mintToken, unique } from './helpers';
import {
  Acknowledged,
  ChaosClient,
  caughtUp,
  chaosSeconds,
  chaosSeed,
  check,
  dropRandomly,
  publishContinuously,
  seededRandom,
  sleep,
} from './chaos/harness';
import { HeraldNode, RedisServer, removeTemp, tempDir } from './chaos/processes';

const CLIENTS = 12;
const seconds = chaosSeconds();
// Enough history for every gap of the run.
const serverArgs = ['--token-secret', 'herald-js-sdk-tests-secret-0123456789abcdef', '--set', 'history_size=100000', '--log-level', 'warning'];

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Run {
  seed: number;
  random: () => number;
  channel: string;
  clients: ChaosClient[];
  acked: Acknowledged;
}

function prepare(pickUrl: (index: number) => string): Run {
  const seed = chaosSeed();
  const random = seededRandom(seed);
  const channel = unique('chaos');
  const clients = Array.from({ length: CLIENTS }, (_, i) => {
    const user = unique(`chaos${i}`);
    return new ChaosClient(user, mintToken({ sub: user }), channel, () => pickUrl(i));
  });
  cleanups.push(() => clients.forEach((c) => c.herald.disconnect()));
  return { seed, random, channel, clients, acked: new Acknowledged() };
}

async function connectAll(run: Run): Promise<void> {
  run.clients.forEach((c) => c.herald.connect());
  const deadline = Date.now() + 15000;
  while (!run.clients.every((c) => c.subscribed)) {
    if (Date.now() > deadline) throw new Error(`seed ${run.seed}: not every client subscribed within 15 s`);
    await sleep(50);
  }
}

/** Waits until every client has everything acknowledged (or 20 s), then checks what each one received. */
async function settleAndCheck(run: Run, nodes: HeraldNode[]): Promise<void> {
  const deadline = Date.now() + 20000;
  while (!run.clients.every((c) => caughtUp(c, run.acked)) && Date.now() < deadline) await sleep(100);
  const problems = check(run.clients, run.acked);
  const drops = run.clients.reduce((sum, c) => sum + c.drops, 0);
  const summary =
    `seed ${run.seed} (replay: HERALD_CHAOS_SEED=${run.seed}): ${run.acked.channel.size} channel publishes and ` +
    `${[...run.acked.inbox.values()].reduce((s, m) => s + m.size, 0)} inbox entries acknowledged, ` +
    `${run.acked.failed} publishes failed, ${drops} sockets cut, ${nodes.reduce((s, n) => s + n.starts - 1, 0)} restarts`;
  console.log(`chaos: ${summary}`);
  if (problems.length) {
    throw new Error(`${summary}\n${problems.join('\n')}`);
  }
  // The run must have exercised what it claims to.
  expect(run.acked.channel.size, summary).toBeGreaterThan(100);
  expect(drops, summary).toBeGreaterThan(20);
  for (const node of nodes) expect(node.errors(), `${node.name} logged errors; ${summary}`).toEqual([]);
}

describe('chaos', () => {
  it(
    'SQLite: no acknowledged publication or inbox entry is lost or duplicated across abrupt drops and two kill -9 restarts',
    async () => {
      const dataDir = tempDir('herald-chaos-');
      cleanups.push(() => removeTemp(dataDir));
      const node = await HeraldNode.create('sqlite', [...serverArgs, '--data-dir', dataDir]);
      cleanups.push(() => node.stop());
      await node.start();
      const run = prepare(() => node.url);
      await connectAll(run);

      const publisher = publishContinuously({ channel: run.channel, users: run.clients.map((c) => c.user), nodes: () => [node], acked: run.acked, random: run.random });
      const dropper = dropRandomly(run.clients, run.random);
      const kills = Math.max(2, Math.round(seconds / 6));
      const started = Date.now();
      for (let k = 1; k <= kills; k++) {
        await sleep(Math.max(0, (seconds * 1000 * k) / (kills + 1) - (Date.now() - started)));
        await node.kill();
        await sleep(100 + run.random() * 600);
        await node.start();
      }
      await sleep(Math.max(0, seconds * 1000 - (Date.now() - started)));
      await dropper.stop();
      await publisher.stop();
      await settleAndCheck(run, [node]);
    },
    (seconds + 90) * 1000,
  );

  it(
    'Redis: no acknowledged publication or inbox entry is lost or duplicated while nodes are killed and their clients move to the other',
    async () => {
      const redis = await RedisServer.start();
      cleanups.push(() => redis.stop());
      const args = [...serverArgs, '--engine', 'redis', '--redis', `127.0.0.1:${redis.port}`, '--redis-prefix', unique('chaos')];
      const nodes = [await HeraldNode.create('node-a', args), await HeraldNode.create('node-b', args)];
      for (const node of nodes) cleanups.push(() => node.stop());
      await Promise.all(nodes.map((node) => node.start()));
      // Half the clients prefer each node, as behind a load balancer; a client whose node is down goes to the other.
      const run = prepare((i) => (nodes[i % 2].running ? nodes[i % 2] : nodes[(i + 1) % 2]).url);
      await connectAll(run);

      const publisher = publishContinuously({ channel: run.channel, users: run.clients.map((c) => c.user), nodes: () => nodes, acked: run.acked, random: run.random });
      const dropper = dropRandomly(run.clients, run.random);
      const kills = Math.max(2, Math.round(seconds / 6));
      const started = Date.now();
      for (let k = 1; k <= kills; k++) {
        await sleep(Math.max(0, (seconds * 1000 * k) / (kills + 1) - (Date.now() - started)));
        const victim = nodes[(k - 1) % 2];
        await victim.kill();
        // Its clients reconnect to the other node meanwhile; then it comes back for the next round.
        await sleep(500 + run.random() * 1000);
        await victim.start();
      }
      await sleep(Math.max(0, seconds * 1000 - (Date.now() - started)));
      await dropper.stop();
      await publisher.stop();
      await settleAndCheck(run, nodes);
    },
    (seconds + 90) * 1000,
  );
});
