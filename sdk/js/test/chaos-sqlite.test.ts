// Chaos on one node with SQLite: abrupt client drops while publishing, and the server killed with SIGKILL and
// restarted on the same data directory. See test/chaos/run.ts.
import { it } from 'vitest';
import { chaos, chaosTimeout, cleanup, serverArgs } from './chaos/run';
import { sleep } from './chaos/harness';
import { HeraldNode, removeTemp, tempDir } from './chaos/processes';

it(
  'SQLite: no acknowledged publication or inbox entry is lost or duplicated across abrupt drops and kill -9 restarts',
  async () => {
    const dataDir = tempDir('herald-chaos-');
    cleanup(() => removeTemp(dataDir));
    const node = await HeraldNode.create('sqlite', [...serverArgs, '--data-dir', dataDir]);
    cleanup(() => node.stop());
    await node.start();
    await chaos({
      nodes: [node],
      pickUrl: () => node.url,
      kill: async (_round, run) => {
        await node.kill();
        await sleep(100 + run.random() * 600);
        await node.start();
      },
    });
  },
  chaosTimeout,
);
