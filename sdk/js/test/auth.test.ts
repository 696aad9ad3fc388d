import { afterEach, describe, expect, it } from 'vitest';
import type { DisconnectEvent, HeraldError, InboxEntry, Subscription } from '../src';
import { api, client, closeClients, connected, controllableTransport, mintToken, unique, until } from './helpers';

afterEach(closeClients);

describe('tokens', () => {
  it('refreshes the token with getToken before it expires', async () => {
    const user = unique('u');
    let fetched = 0;
    const c = client({
      token: mintToken({ sub: user }, 3),
      getToken: async () => {
        fetched++;
        return mintToken({ sub: user }, 3);
      },
    });
    const disconnects: DisconnectEvent[] = [];
    c.on('disconnect', (d) => disconnects.push(d));
    c.connect();
    await connected(c);
    expect(c.info!.expires_in).toBeLessThanOrEqual(3);
    // Outlive two tokens: only refresh keeps the connection.
    await new Promise((r) => setTimeout(r, 5000));
    expect(disconnects).toEqual([]);
    expect(fetched).toBeGreaterThanOrEqual(2);
    expect(c.state).toBe('connected');
  });

  it('gets a new token and reconnects after close code 4005', async () => {
    const user = unique('u');
    let fetched = 0;
    const c = client({
      token: mintToken({ sub: user }, 600),
      getToken: async () => {
        fetched++;
        return mintToken({ sub: user }, 900);
      },
    });
    const disconnects: DisconnectEvent[] = [];
    c.on('disconnect', (d) => disconnects.push(d));
    c.connect();
    await connected(c);
    const firstClient = c.info!.client;
    await api('disconnect', { user, code: 4005, reason: 'token expired' });
    await until(() => c.state === 'connected' && c.info!.client !== firstClient, 5000, 'reconnected');
    expect(disconnects).toEqual([{ code: 4005, reason: 'token expired', reconnect: true }]);
    expect(fetched).toBe(1);
    expect(c.info!.expires_in).toBeGreaterThan(600);
  });

  it('replaces an already expired token at connect', async () => {
    const user = unique('u');
    const errors: HeraldError[] = [];
    const c = client({ token: mintToken({ sub: user }, -10), getToken: async () => mintToken({ sub: user }, 60) });
    c.on('error', (e) => errors.push(e));
    c.connect();
    await connected(c);
    expect(errors.map((e) => e.code)).toEqual([109]);
    expect(c.info!.user).toBe(user);
  });

  it('stops after 4005 when it has no getToken', async () => {
    const c = client({ token: mintToken({ sub: unique('u') }, -10) });
    const disconnects: DisconnectEvent[] = [];
    c.on('disconnect', (d) => disconnects.push(d));
    c.connect();
    await until(() => disconnects.length === 1);
    expect(disconnects[0]).toMatchObject({ code: 4005, reconnect: false });
    expect(c.state).toBe('disconnected');
  });
});

describe('inbox', () => {
  it('delivers the inbox on connect and live; acknowledged entries do not come back', async () => {
    const user = unique('u');
    await api('publish', { user, data: { approve: 1 } });
    await api('publish', { user, data: { approve: 2 } });
    const token = mintToken({ sub: user });

    const c = client({ token });
    const entries: InboxEntry[] = [];
    c.on('inbox', (e) => entries.push(e));
    c.connect();
    await connected(c);
    expect(entries).toEqual([
      { offset: 1, data: { approve: 1 } },
      { offset: 2, data: { approve: 2 } },
    ]);
    await api('publish', { user, data: { approve: 3 } });
    await until(() => entries.length === 3);
    expect(entries[2]).toEqual({ offset: 3, data: { approve: 3 } });
    await expect(c.ackInbox(3)).resolves.toEqual({ acked: 3 });
    c.disconnect();

    const again = client({ token });
    const more: InboxEntry[] = [];
    again.on('inbox', (e) => more.push(e));
    again.connect();
    await connected(again);
    expect(again.info!.inbox).toEqual({ offset: 3, acked: 3, publications: [] });
    expect(more).toEqual([]);
  });
});

describe('token channels', () => {
  it('exposes the channels of the token as subscriptions and recovers them through connect', async () => {
    const user = unique('u');
    const channel = `orders#${user}`;
    const token = mintToken({ sub: user, channels: [channel] });
    const control = controllableTransport();
    const c = client({ token, transport: control.transport });
    const got: number[] = [];
    const recovered: (boolean | undefined)[] = [];
    const seen = new WeakSet<Subscription>();
    c.on('connect', () => {
      const sub = c.getSubscription(channel)!;
      if (seen.has(sub)) return;
      seen.add(sub);
      sub.on('publication', (p) => got.push((p.data as { n: number }).n));
      sub.on('subscribed', (e) => recovered.push(e.recovered));
    });
    c.connect();
    await connected(c);
    await api('publish', { channel, data: { n: 1 } });
    await until(() => got.length === 1);
    control.pause();
    await api('disconnect', { user });
    await until(() => c.state === 'connecting');
    await api('publish', { channel, data: { n: 2 } });
    control.resume();
    await until(() => got.length === 2, 5000, 'recovered publication');
    expect(got).toEqual([1, 2]);
    expect(recovered).toEqual([undefined, true]);
  });
});
