// One chaos run against the real server: 12 SDK clients on one history channel while a backend publishes numbered
// messages over HTTP, random client sockets are cut without a close frame, and servers are killed with SIGKILL and
// restarted (the scenarios are test/chaos-*.test.ts). Each client must end up with every acknowledged publication
// and inbox entry exactly once, in order. A failure prints its seed, and
// HERALD_CHAOS_SEED=<seed> npx vitest run test/chaos-sqlite.test.ts replays the same random choices.
import { afterEach, expect } from 'vitest';
import { mintToken, unique } from '../helpers';
import {
  Acknowledged,
  ChaosClient,
  caughtUp,
  chaosMaxSeconds,
  chaosPublishes,
  chaosSeed,
  check,
  dropRandomly,
  publishContinuously,
  seededRandom,
  sleep,
} from './harness';
import type { HeraldNode } from './processes';

const CLIENTS = 12;
const publishes = chaosPublishes();
const maxSeconds = chaosMaxSeconds();
/** Long enough for the run, its kills and restarts, and the wait for the clients to catch up. */
export const chaosTimeout = (maxSeconds + 60) * 1000;
/** Enough history for every gap of the run; the secret of the test tokens. */
export const serverArgs = ['--token-secret', 'herald-js-sdk-tests-secret-0123456789abcdef', '--set', 'history_size=100000', '--log-level', 'warning'];

const cleanups: (() => Promise<void> | void)[] = [];
/** Runs at the end of the test, last registered first: stop clients before servers, servers before their data goes. */
export function cleanup(step: () => Promise<void> | void): void {
  cleanups.push(step);
}
afterEach(async () => {
  for (const step of cleanups.splice(0).reverse()) await step();
});

export interface Run {
  seed: number;
  random: () => number;
  clients: ChaosClient[];
  acked: Acknowledged;
}

/**
 * Connects the clients (client i to `pickUrl(i)`, asked again at every reconnect), publishes and cuts sockets until
 * `publishes` channel publishes are acknowledged, calling `kill(k, run)` at evenly spread counts on the way (at least
 * twice), then waits for the clients to catch up and checks what each received.
 */
export async function chaos(options: {
  nodes: HeraldNode[];
  pickUrl: (index: number) => string;
  kill: (round: number, run: Run) => Promise<void>;
}): Promise<void> {
  const seed = chaosSeed();
  const random = seededRandom(seed);
  const channel = unique('chaos');
  const clients = Array.from({ length: CLIENTS }, (_, i) => {
    const user = unique(`chaos${i}`);
    return new ChaosClient(user, mintToken({ sub: user }), channel, () => options.pickUrl(i));
  });
  cleanup(() => clients.forEach((c) => c.herald.disconnect()));
  const run: Run = { seed, random, clients, acked: new Acknowledged() };
  try {
    await drive(options, run);
  } catch (error) {
    // Whatever failed, the seed and the servers' last words go with it.
    const logs = options.nodes.map((n) => `--- log of ${n.name}:\n${n.log.join('').slice(-3000)}`).join('\n');
    throw new Error(`seed ${seed} (replay: HERALD_CHAOS_SEED=${seed}): ${(error as Error).message}\n${logs}`);
  }
}

async function drive(
  options: { nodes: HeraldNode[]; kill: (round: number, run: Run) => Promise<void> },
  run: Run,
): Promise<void> {
  const { seed, random, clients } = run;
  const stuck = Date.now() + maxSeconds * 1000;
  const waitUntil = async (done: () => boolean, what: string) => {
    while (!done()) {
      if (Date.now() > stuck) throw new Error(`seed ${seed}: ${what} within HERALD_CHAOS_MAX_SECONDS=${maxSeconds}`);
      await sleep(50);
    }
  };

  clients.forEach((c) => c.herald.connect());
  await waitUntil(() => clients.every((c) => c.subscribed), 'not every client subscribed');

  const channel = clients[0].channel;
  const publisher = publishContinuously({ channel, users: clients.map((c) => c.user), nodes: () => options.nodes, acked: run.acked, random });
  const dropper = dropRandomly(clients, run.acked, random);
  const kills = Math.max(2, Math.floor(publishes / 500));
  try {
    for (let k = 1; k <= kills; k++) {
      await waitUntil(() => run.acked.channel.size >= (publishes * k) / (kills + 1), `not ${Math.ceil((publishes * k) / (kills + 1))} publishes acknowledged`);
      await options.kill(k, run);
    }
    await waitUntil(() => run.acked.channel.size >= publishes, `not ${publishes} publishes acknowledged`);
  } finally {
    await dropper.stop();
    await publisher.stop();
  }

  const settleDeadline = Date.now() + 20000;
  while (!clients.every((c) => caughtUp(c, run.acked)) && Date.now() < settleDeadline) await sleep(100);
  const problems = check(clients, run.acked);
  const drops = clients.reduce((sum, c) => sum + c.drops, 0);
  const summary =
    `seed ${seed} (replay: HERALD_CHAOS_SEED=${seed}): ${run.acked.channel.size} channel publishes and ` +
    `${[...run.acked.inbox.values()].reduce((s, m) => s + m.size, 0)} inbox entries acknowledged, ` +
    `${run.acked.failed} publishes failed, ${drops} sockets cut, ${options.nodes.reduce((s, n) => s + n.starts - 1, 0)} restarts`;
  console.log(`chaos: ${summary}`);
  if (problems.length) throw new Error(`${summary}\n${problems.join('\n')}`);
  // The run must have exercised what it claims to.
  expect(drops, summary).toBeGreaterThan(20);
  for (const node of options.nodes) expect(node.errors(), `${node.name} logged errors; ${summary}`).toEqual([]);
}
