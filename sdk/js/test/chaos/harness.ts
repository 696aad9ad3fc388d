// The parts of a chaos run: seeded randomness, SDK clients whose sockets can be cut without a close frame, a
// backend that publishes numbered messages over HTTP and records which were acknowledged (200), and the checker
// that compares what each client received with what was acknowledged.
import WebSocket from 'ws';
import { Herald, webSocketTransport, type WebSocketConstructor } from '../../src';

/** A small seeded generator (mulberry32), so a failing run can be replayed with its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of this run: HERALD_CHAOS_SEED replays one, otherwise a new one. */
export function chaosSeed(): number {
  const given = process.env.HERALD_CHAOS_SEED;
  return given ? Number(given) : Math.floor(Math.random() * 2 ** 31);
}

/**
 * Channel publishes a chaos run gets acknowledged before it stops (HERALD_CHAOS_PUBLISHES, 400 by default; the
 * soak run sets more). A run ends by count, not by time, so a slow machine makes it longer, not weaker.
 */
export function chaosPublishes(): number {
  return Number(process.env.HERALD_CHAOS_PUBLISHES || 400);
}

/** The most a run may take before it is called stuck (HERALD_CHAOS_MAX_SECONDS, 120 by default). */
export function chaosMaxSeconds(): number {
  return Number(process.env.HERALD_CHAOS_MAX_SECONDS || 120);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Received =
  | { kind: 'pub'; offset: number; n: number }
  | { kind: 'subscribed'; recovered?: boolean; offset?: number; epoch?: string }
  | { kind: 'inbox'; offset: number; n: number };

/** One SDK client over `ws`, connecting to whichever node `pickUrl` names, that the test can cut off abruptly. */
export class ChaosClient {
  readonly herald: Herald;
  readonly received: Received[] = [];
  socket?: WebSocket;
  drops = 0;
  lastPubOffset = 0;
  inboxOffsets = new Set<number>();

  constructor(
    readonly user: string,
    token: string,
    readonly channel: string,
    pickUrl: () => string,
  ) {
    const self = this;
    // The SDK's own WebSocket transport over `ws` (which hands over the frames of one read in one turn); the
    // subclass only chooses the node, as a load balancer would, and keeps the socket so the test can cut it.
    class RoutedWebSocket extends WebSocket {
      constructor(_url: string, protocols?: string | string[]) {
        super(pickUrl(), protocols);
        self.socket = this;
      }
    }
    this.herald = new Herald('ws://chosen-by-the-test/', {
      transport: webSocketTransport(RoutedWebSocket as unknown as WebSocketConstructor),
      token,
      minReconnectDelay: 20,
      maxReconnectDelay: 400,
      network: false,
    });
    this.herald.on('error', () => {});
    this.herald.on<{ n: number }>('inbox', (entry) => {
      this.received.push({ kind: 'inbox', offset: entry.offset, n: entry.data.n });
      this.inboxOffsets.add(entry.offset);
      this.herald.ackInbox(entry.offset).catch(() => {});
    });
    const sub = this.herald.subscribe<{ n: number }>(channel);
    sub.on('publication', (p) => {
      this.received.push({ kind: 'pub', offset: p.offset!, n: p.data.n });
      this.lastPubOffset = p.offset!;
    });
    sub.on('subscribed', (e) => this.received.push({ kind: 'subscribed', recovered: e.recovered, offset: e.position?.offset, epoch: e.position?.epoch }));
  }

  get subscribed(): boolean {
    return this.received.some((r) => r.kind === 'subscribed');
  }

  /** Ends the socket without a close frame, as a lost network does. */
  drop(): void {
    const socket = this.socket;
    if (socket && socket.readyState === WebSocket.OPEN) {
      this.drops++;
      socket.terminate();
    }
  }
}

/** What the backend got acknowledged: channel offsets and inbox offsets (per user), each with its message number. */
export class Acknowledged {
  readonly channel = new Map<number, number>();
  readonly inbox = new Map<string, Map<number, number>>();
  epochs = new Set<string>();
  attempted = 0;
  failed = 0;

  get maxChannelOffset(): number {
    let max = 0;
    for (const offset of this.channel.keys()) max = Math.max(max, offset);
    return max;
  }
}

/**
 * Publishes numbered messages over HTTP until `stop()`: most to the channel, every fifth to the users' inboxes.
 * Requests to a node that is down fail and are not acknowledged (they may still have been stored).
 */
export function publishContinuously(options: {
  channel: string;
  users: string[];
  nodes: () => { http: string; running: boolean }[];
  acked: Acknowledged;
  random: () => number;
  concurrency?: number;
  limit?: number;
}) {
  const { channel, users, nodes, acked, random } = options;
  let next = 1;
  let stopped = false;
  const loop = async () => {
    while (!stopped && next <= (options.limit ?? 100000)) {
      const alive = nodes().filter((node) => node.running);
      if (!alive.length) {
        await sleep(20);
        continue;
      }
      const node = alive[Math.floor(random() * alive.length)];
      const n = next++;
      const toInbox = n % 5 === 0;
      const body = toInbox ? { users, data: { n } } : { channel, data: { n } };
      acked.attempted++;
      try {
        const res = await fetch(`${node.http}/api/publish`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(5000) });
        const reply = (await res.json()) as { offset?: number; epoch?: string; inbox?: Record<string, number> };
        if (res.status !== 200) {
          acked.failed++;
          continue;
        }
        if (toInbox) {
          for (const [user, offset] of Object.entries(reply.inbox || {})) {
            let map = acked.inbox.get(user);
            if (!map) acked.inbox.set(user, (map = new Map()));
            map.set(offset, n);
          }
        } else {
          acked.channel.set(reply.offset!, n);
          acked.epochs.add(reply.epoch!);
        }
      } catch {
        acked.failed++;
        await sleep(10);
      }
    }
  };
  const loops = Array.from({ length: options.concurrency ?? 3 }, loop);
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/** Cuts a random client's socket every 2 to 8 acknowledged publishes (so ~80 cuts per 400), until stopped. */
export function dropRandomly(clients: ChaosClient[], acked: Acknowledged, random: () => number) {
  let stopped = false;
  let next = 2 + random() * 6;
  const done = (async () => {
    while (!stopped) {
      await sleep(5);
      if (acked.channel.size < next) continue;
      next = acked.channel.size + 2 + random() * 6;
      clients[Math.floor(random() * clients.length)].drop();
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

/** Whether a client has everything acknowledged (it may have more: publishes stored but not answered). */
export function caughtUp(client: ChaosClient, acked: Acknowledged): boolean {
  if (client.lastPubOffset < acked.maxChannelOffset) return false;
  for (const offset of acked.inbox.get(client.user)?.keys() || []) if (!client.inboxOffsets.has(offset)) return false;
  return true;
}

/**
 * What must hold for each client: the channel's publications arrive once each, in offset order, without a hole,
 * with the data that was acknowledged for that offset; every acknowledged one arrives; `recovered` is never false
 * (these engines keep the history across the kills, and history_size covers the whole run); every acknowledged inbox
 * entry of the client's user arrives exactly once, in order. Returns the problems found, at most a few per client.
 */
export function check(clients: ChaosClient[], acked: Acknowledged): string[] {
  const problems: string[] = [];
  clients.forEach((client, index) => {
    const own: string[] = [];
    const say = (text: string) => own.length < 5 && own.push(`client ${index} (${client.user}): ${text}`);
    let expected = 1;
    let lastInbox = 0;
    const inboxSeen = new Set<number>();
    for (const r of client.received) {
      if (r.kind === 'pub') {
        if (r.offset !== expected) {
          say(r.offset < expected ? `offset ${r.offset} again (or out of order) after ${expected - 1}` : `offsets ${expected}..${r.offset - 1} missing (got ${r.offset} next)`);
        }
        const n = acked.channel.get(r.offset);
        if (n !== undefined && n !== r.n) say(`offset ${r.offset} carried message ${r.n}, the backend was told ${n}`);
        expected = Math.max(expected, r.offset + 1);
      } else if (r.kind === 'subscribed') {
        if (r.recovered === false) say(`recovered: false at offset ${r.offset}, although the history holds every publication`);
        if (r.offset !== undefined && r.offset !== expected - 1 && r.recovered !== undefined) {
          say(`subscribed at offset ${r.offset} but the last publication delivered was ${expected - 1}`);
        }
      } else {
        if (inboxSeen.has(r.offset)) say(`inbox entry ${r.offset} delivered twice`);
        else if (r.offset < lastInbox) say(`inbox entry ${r.offset} after ${lastInbox}`);
        const n = acked.inbox.get(client.user)?.get(r.offset);
        if (n !== undefined && n !== r.n) say(`inbox entry ${r.offset} carried message ${r.n}, the backend was told ${n}`);
        inboxSeen.add(r.offset);
        lastInbox = Math.max(lastInbox, r.offset);
      }
    }
    if (expected - 1 < acked.maxChannelOffset) say(`stopped at offset ${expected - 1}, the backend got ${acked.maxChannelOffset} acknowledged`);
    const missing = [...(acked.inbox.get(client.user)?.keys() || [])].filter((o) => !inboxSeen.has(o));
    if (missing.length) say(`acknowledged inbox entries never delivered: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', ...' : ''}`);
    problems.push(...own);
  });
  return problems;
}
