// Replies and pushes handed to the client in the same turn or in separate turns, in both orders: what it delivers
// must not depend on how the platform batches frames.
import { afterEach, describe, expect, it } from 'vitest';
import { Herald, type SubscribedEvent } from '../src';
import { inboxPush, nextTurn, pub, scriptedTransport, type ScriptedSocket } from './scriptedServer';

const clients: Herald[] = [];
afterEach(() => clients.splice(0).forEach((c) => c.disconnect()));

const connectReply = (id: number, extra: object = {}) => ({ id, result: { client: 'c-1', version: '0.1.0', ping: 25, pong: 10, ...extra } });
const stored = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => ({ offset: from + i, data: { n: from + i } }));

/** A client subscribed to `news` at offset 3 of epoch e1 (publications 1-3 delivered), whose socket was then lost. */
async function afterThreeThenLost() {
  const scripted = scriptedTransport();
  const c = new Herald('ws://scripted/', { transport: scripted.transport, minReconnectDelay: 1, maxReconnectDelay: 5, network: false });
  clients.push(c);
  const sub = c.subscribe<{ n: number }>('news');
  const got: number[] = [];
  const subscribed: SubscribedEvent[] = [];
  sub.on('publication', (p) => got.push(p.data.n));
  sub.on('subscribed', (e) => subscribed.push(e));
  c.connect();
  const first = await scripted.socket(1);
  first.open();
  first.deliver(connectReply((await first.command('connect')).id!));
  // One frame per turn here, as browsers deliver them: the cases below vary only what follows.
  first.deliver({ id: (await first.command('subscribe')).id, result: { offset: 0, epoch: 'e1' } });
  await nextTurn();
  first.deliver(pub('news', 1), pub('news', 2), pub('news', 3));
  expect(got).toEqual([1, 2, 3]);
  first.lose();
  const second = await scripted.socket(2);
  second.open();
  second.deliver(connectReply((await second.command('connect')).id!));
  await nextTurn();
  const subscribe = await second.command('subscribe');
  expect(subscribe.params).toEqual({ channel: 'news', since: { offset: 3, epoch: 'e1' } });
  const reply = (result: object) => ({ id: subscribe.id, result });
  return { c, sub, got, subscribed, second, reply, scripted };
}

const recoveredReply = { offset: 6, epoch: 'e1', recovered: true, publications: stored(4, 6) };

describe('frame order: a subscribe reply with recovered publications and live pushes', () => {
  const cases: [string, (s: ScriptedSocket, reply: object) => Promise<void>][] = [
    ['reply, then pushes, in one turn', async (s, reply) => s.deliver(reply, pub('news', 7), pub('news', 8))],
    ['pushes, then reply, in one turn', async (s, reply) => s.deliver(pub('news', 7), pub('news', 8), reply)],
    [
      'reply in one turn, pushes in the next',
      async (s, reply) => {
        s.deliver(reply);
        await nextTurn();
        s.deliver(pub('news', 7), pub('news', 8));
      },
    ],
    [
      'pushes in one turn, reply in the next',
      async (s, reply) => {
        s.deliver(pub('news', 7), pub('news', 8));
        await nextTurn();
        s.deliver(reply);
      },
    ],
    ['pushes the reply also holds, then reply, then newer pushes', async (s, reply) => s.deliver(pub('news', 5), pub('news', 6), reply, pub('news', 7), pub('news', 8))],
  ];
  for (const [name, play] of cases) {
    it(`delivers every publication once, in order: ${name}`, async () => {
      const { got, subscribed, second, reply, sub } = await afterThreeThenLost();
      await play(second, reply(recoveredReply));
      await nextTurn();
      expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(subscribed.map((e) => e.recovered)).toEqual([undefined, true]);
      expect(sub.position).toEqual({ offset: 8, epoch: 'e1' });
    });
  }
});

describe('recovery outcomes', () => {
  it('says recovered: false when the server cannot close the gap, and goes on from the new position', async () => {
    const { got, subscribed, second, reply, sub } = await afterThreeThenLost();
    second.deliver(reply({ offset: 10, epoch: 'e2', recovered: false, publications: [] }), pub('news', 11));
    expect(subscribed[1]).toEqual({ channel: 'news', position: { offset: 10, epoch: 'e2' }, recovered: false });
    expect(got).toEqual([1, 2, 3, 11]);
    expect(sub.position).toEqual({ offset: 11, epoch: 'e2' });
  });

  it('says recovered: false when a reply claims recovery but its publications have a hole', async () => {
    const { got, subscribed, second, reply } = await afterThreeThenLost();
    second.deliver(reply({ offset: 6, epoch: 'e1', recovered: true, publications: [stored(4, 4)[0], stored(6, 6)[0]] }));
    expect(got).toEqual([1, 2, 3, 4, 6]);
    expect(subscribed[1].recovered).toBe(false);
  });

  it('recovers a hole in the live offsets from history instead of skipping it', async () => {
    const { got, subscribed, second, reply } = await afterThreeThenLost();
    second.deliver(reply({ offset: 3, epoch: 'e1', recovered: true, publications: [] }), pub('news', 5), pub('news', 6));
    const again = await second.command('subscribe', 2);
    expect(again.params).toEqual({ channel: 'news', since: { offset: 3, epoch: 'e1' } });
    second.deliver(pub('news', 7), { id: again.id, result: { offset: 7, epoch: 'e1', recovered: true, publications: stored(4, 7) } }, pub('news', 8));
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(subscribed.map((e) => e.recovered)).toEqual([undefined, true]);
  });

  it('notices a new epoch from an offset that goes back, resubscribes and says recovered: false', async () => {
    const { got, subscribed, second, reply, sub } = await afterThreeThenLost();
    second.deliver(reply({ offset: 3, epoch: 'e1', recovered: true, publications: [] }), pub('news', 1, 100));
    const again = await second.command('subscribe', 2);
    expect(again.params).toEqual({ channel: 'news' });
    second.deliver(pub('news', 2, 101), { id: again.id, result: { offset: 2, epoch: 'e2' } }, pub('news', 3, 102));
    expect(subscribed[2]).toEqual({ channel: 'news', position: { offset: 2, epoch: 'e2' }, recovered: false });
    expect(got).toEqual([1, 2, 3, 102]);
    expect(sub.position).toEqual({ offset: 3, epoch: 'e2' });
  });
});

describe('frame order: the connect reply', () => {
  it('recovers the token channels of the connect reply before the pushes of the same turn', async () => {
    const scripted = scriptedTransport();
    const c = new Herald('ws://scripted/', { transport: scripted.transport, minReconnectDelay: 1, maxReconnectDelay: 5, network: false });
    clients.push(c);
    const got: number[] = [];
    const recovered: (boolean | undefined)[] = [];
    c.on('connect', () => {
      const sub = c.getSubscription<{ n: number }>('orders#u');
      if (sub && !got.length) {
        sub.on('publication', (p) => got.push(p.data.n));
        sub.on('subscribed', (e) => recovered.push(e.recovered));
      }
    });
    c.connect();
    const first = await scripted.socket(1);
    first.open();
    const connect1 = await first.command('connect');
    first.deliver(connectReply(connect1.id!, { subs: { 'orders#u': { offset: 0, epoch: 'e1' } } }), pub('orders#u', 1), pub('orders#u', 2));
    first.lose();
    const second = await scripted.socket(2);
    second.open();
    const connect2 = await second.command('connect');
    expect(connect2.params.since).toEqual({ 'orders#u': { offset: 2, epoch: 'e1' } });
    // Nothing of a channel can come before the connect reply that subscribes the connection to it.
    second.deliver(
      connectReply(connect2.id!, { subs: { 'orders#u': { offset: 4, epoch: 'e1', recovered: true, publications: stored(3, 4) } } }),
      pub('orders#u', 5),
      pub('orders#u', 6),
    );
    expect(got).toEqual([1, 2, 3, 4, 5, 6]);
    expect(recovered).toEqual([undefined, true]);
  });

  it('hands out the inbox of the connect reply before later inbox pushes, and never an entry twice across reconnects', async () => {
    const scripted = scriptedTransport();
    const c = new Herald('ws://scripted/', { transport: scripted.transport, minReconnectDelay: 1, maxReconnectDelay: 5, network: false });
    clients.push(c);
    const got: number[] = [];
    c.on<{ n: number }>('inbox', (e) => got.push(e.data.n));
    c.connect();
    const first = await scripted.socket(1);
    first.open();
    const connect1 = await first.command('connect');
    first.deliver(connectReply(connect1.id!, { user: 'u', inbox: { offset: 2, acked: 0, publications: stored(1, 2) } }), inboxPush(3));
    expect(got).toEqual([1, 2, 3]);
    first.lose();

    // Entry 1 was acknowledged, 2 and 3 not yet: the next connect reply repeats them.
    const second = await scripted.socket(2);
    second.open();
    const connect2 = await second.command('connect');
    second.deliver(connectReply(connect2.id!, { user: 'u', inbox: { offset: 4, acked: 1, publications: stored(2, 4) } }), inboxPush(5), inboxPush(6));
    expect(got).toEqual([1, 2, 3, 4, 5, 6]);
    second.lose();

    // The server lost its inboxes (a --memory restart): offsets start again, and the new entries are new.
    const third = await scripted.socket(3);
    third.open();
    const connect3 = await third.command('connect');
    third.deliver(connectReply(connect3.id!, { user: 'u', inbox: { offset: 1, acked: 0, publications: [{ offset: 1, data: { n: 100 } }] } }));
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 100]);
  });
});

describe('typed payloads', () => {
  it('carries the type given to subscribe<T>() and on<T>() to the data of publications and inbox entries', async () => {
    // The @ts-expect-error lines are checked by `tsc -p tsconfig.test.json` (part of npm test): each must be an error.
    const scripted = scriptedTransport();
    const c = new Herald('ws://scripted/', { transport: scripted.transport, network: false });
    clients.push(c);
    const sub = c.subscribe<{ id: number; status: 'new' | 'paid' }>('orders');
    const ids: number[] = [];
    const titles: string[] = [];
    sub.on('publication', (p) => {
      ids.push(p.data.id);
      // @ts-expect-error status is a union of strings, not a number
      const wrong: number = p.data.status;
      void wrong;
    });
    c.on<{ title: string }>('inbox', (e) => {
      titles.push(e.data.title);
      // @ts-expect-error no such field
      void e.data.missing;
    });
    c.on('publication', (p) => {
      // Without a type argument the data stays unknown and must be narrowed first.
      // @ts-expect-error unknown
      void p.data.anything;
    });
    c.connect();
    const socket = await scripted.socket(1);
    socket.open();
    socket.deliver(connectReply((await socket.command('connect')).id!, { user: 'u', inbox: { offset: 1, acked: 0, publications: [{ offset: 1, data: { title: 'hi' } }] } }));
    socket.deliver({ id: (await socket.command('subscribe')).id, result: { offset: 0, epoch: 'e1' } }, { push: 'pub', channel: 'orders', offset: 1, data: { id: 7, status: 'paid' } });
    expect(ids).toEqual([7]);
    expect(titles).toEqual(['hi']);
  });
});
