import { afterEach, describe, expect, it } from 'vitest';
import type { DisconnectEvent, InboxEntry, Publication, SubscribedEvent } from '../src';
import { api, client, closeClients, connected, controllableTransport, mintToken, publishUdp, unique, until } from './helpers';

afterEach(closeClients);

describe('event names', () => {
  it('gives the event a publish named to live publications, recovered ones and none to the rest', async () => {
    const user = unique('u');
    const channel = unique('orders');
    const control = controllableTransport();
    const c = client({ token: mintToken({ sub: user }), transport: control.transport });
    const sub = c.subscribe(channel);
    const got: Publication[] = [];
    const subscribed: SubscribedEvent[] = [];
    const disconnects: DisconnectEvent[] = [];
    sub.on('publication', (p) => got.push(p));
    sub.on('subscribed', (e) => subscribed.push(e));
    c.on('disconnect', (d) => disconnects.push(d));
    c.connect();
    await until(() => subscribed.length === 1, 5000, 'subscribed');

    await api('publish', { channel, event: 'order.created', data: { n: 1 } });
    await publishUdp({ channel, data: { n: 2 } });
    await until(() => got.length === 2);
    control.pause();
    await api('disconnect', { user, reconnect: true });
    await until(() => disconnects.length === 1);
    await api('publish', { channel, event: 'App\\Events\\OrderPaid', data: { n: 3 } });
    await api('publish', { channel, data: { n: 4 } });
    control.resume();
    await until(() => got.length === 4, 5000, 'recovered');

    expect(subscribed[1]).toMatchObject({ recovered: true });
    expect(got).toEqual([
      { channel, offset: 1, event: 'order.created', data: { n: 1 } },
      { channel, offset: 2, data: { n: 2 } },
      { channel, offset: 3, event: 'App\\Events\\OrderPaid', data: { n: 3 } },
      { channel, offset: 4, data: { n: 4 } },
    ]);
  });

  it('gives inbox entries their event, from the connect reply and live', async () => {
    const user = unique('u');
    await api('publish', { user, event: 'approval.asked', data: { approve: 1 } });
    await api('publish', { user, data: { approve: 2 } });
    const c = client({ token: mintToken({ sub: user }) });
    const entries: InboxEntry[] = [];
    c.on('inbox', (e) => entries.push(e));
    c.connect();
    await connected(c);
    await publishUdp({ user, event: 'approval.given', data: { approve: 3 } });
    await until(() => entries.length === 3);

    expect(entries).toEqual([
      { offset: 1, event: 'approval.asked', data: { approve: 1 } },
      { offset: 2, data: { approve: 2 } },
      { offset: 3, event: 'approval.given', data: { approve: 3 } },
    ]);
  });
});
