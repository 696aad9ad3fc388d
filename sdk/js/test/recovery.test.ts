import { afterEach, describe, expect, it } from 'vitest';
import type { DisconnectEvent, SubscribedEvent } from '../src';
import { api, client, closeClients, connected, controllableTransport, mintToken, unique, until } from './helpers';

afterEach(closeClients);

async function awaySetup() {
  const user = unique('u');
  const channel = unique('orders');
  const control = controllableTransport();
  const c = client({ token: mintToken({ sub: user }), transport: control.transport });
  const sub = c.subscribe(channel);
  const got: number[] = [];
  const subscribed: SubscribedEvent[] = [];
  const disconnects: DisconnectEvent[] = [];
  sub.on('publication', (p) => got.push((p.data as { n: number }).n));
  sub.on('subscribed', (e) => subscribed.push(e));
  c.on('disconnect', (d) => disconnects.push(d));
  c.connect();
  await until(() => subscribed.length === 1, 5000, 'subscribed');
  return { user, channel, control, c, sub, got, subscribed, disconnects };
}

describe('reconnect and recovery', () => {
  it('recovers the publications missed while away, in order, without duplicates', async () => {
    const { user, channel, control, c, sub, got, subscribed, disconnects } = await awaySetup();
    await api('publish', { channel, data: { n: 1 } });
    await until(() => got.length === 1);

    control.pause();
    await api('disconnect', { user, reconnect: true });
    await until(() => disconnects.length === 1);
    expect(disconnects[0]).toMatchObject({ code: 4004, reconnect: true });
    expect(sub.state).toBe('subscribing');
    for (const n of [2, 3, 4]) await api('publish', { channel, data: { n } });
    control.resume();

    await until(() => subscribed.length === 2, 5000, 'resubscribed');
    expect(subscribed[1]).toMatchObject({ recovered: true, position: { offset: 4 } });
    await api('publish', { channel, data: { n: 5 } });
    await until(() => got.length === 5);
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual([1, 2, 3, 4, 5]);
    expect(c.state).toBe('connected');
  });

  it('says recovered: false when the history was removed while away', async () => {
    const { user, channel, control, subscribed, got, disconnects } = await awaySetup();
    await api('publish', { channel, data: { n: 1 } });
    await until(() => got.length === 1);

    control.pause();
    await api('disconnect', { user });
    await until(() => disconnects.length === 1);
    await api('history_remove', { channel });
    await api('publish', { channel, data: { n: 2 } });
    control.resume();

    await until(() => subscribed.length === 2, 5000, 'resubscribed');
    expect(subscribed[1].recovered).toBe(false);
    expect(subscribed[1].position?.offset).toBe(1);
    expect(got).toEqual([1]);
  });

  it('notices a history reset while connected and says recovered: false', async () => {
    const { channel, subscribed, got } = await awaySetup();
    await api('publish', { channel, data: { n: 1 } });
    await api('publish', { channel, data: { n: 2 } });
    await until(() => got.length === 2);
    const epoch = subscribed[0].position!.epoch;
    await api('history_remove', { channel });
    await api('publish', { channel, data: { n: 3 } });
    await until(() => subscribed.length === 2, 5000, 'resync');
    expect(subscribed[1].recovered).toBe(false);
    expect(subscribed[1].position?.offset).toBe(1);
    expect(subscribed[1].position?.epoch).not.toBe(epoch);
    await api('publish', { channel, data: { n: 4 } });
    await until(() => got.length === 3);
    expect(got).toEqual([1, 2, 4]);
  });

  it('recovers from a position the app kept (since option)', async () => {
    const channel = unique('kept');
    const first = await api('publish', { channel, data: { n: 1 } });
    await api('publish', { channel, data: { n: 2 } });
    await api('publish', { channel, data: { n: 3 } });
    const c = client();
    const sub = c.subscribe(channel, { since: { offset: 1, epoch: first.epoch } });
    const got: number[] = [];
    sub.on('publication', (p) => got.push((p.data as { n: number }).n));
    const subscribed = new Promise<SubscribedEvent>((r) => sub.once('subscribed', r));
    c.connect();
    expect(await subscribed).toMatchObject({ recovered: true, position: { offset: 3, epoch: first.epoch } });
    expect(got).toEqual([2, 3]);
  });

  it('reconnects when the server goes silent for longer than ping + pong', async () => {
    const control = controllableTransport();
    const c = client({ transport: control.transport });
    const disconnects: DisconnectEvent[] = [];
    c.on('disconnect', (d) => disconnects.push(d));
    c.connect();
    await connected(c);
    const firstClient = c.info!.client;
    // Pongs keep the connection alive past ping + pong (2 s + 1 s on the test server).
    await new Promise((r) => setTimeout(r, 3500));
    expect(disconnects).toEqual([]);
    control.setDeaf(true);
    await until(() => disconnects.length === 1, 6000, 'the client to notice the silence');
    expect(disconnects[0]).toMatchObject({ code: 4001, reconnect: true });
    control.setDeaf(false);
    await until(() => c.state === 'connected' && c.info!.client !== firstClient, 5000, 'reconnected');
  });
});
