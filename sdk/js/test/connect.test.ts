import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionState, Publication } from '../src';
import { api, client, closeClients, connected, mintToken, publishUdp, unique, until } from './helpers';

afterEach(closeClients);

describe('connecting and receiving', () => {
  it('connects, subscribes and receives publications from HTTP and UDP in order', async () => {
    const states: ConnectionState[] = [];
    const c = client();
    c.on('state', (s) => states.push(s));
    const channel = unique('news');
    const sub = c.subscribe(channel);
    const got: Publication[] = [];
    sub.on('publication', (p) => got.push(p));
    const subscribed = new Promise((r) => sub.once('subscribed', r));
    c.connect();
    await connected(c);
    expect(c.info?.ping).toBe(2);
    await subscribed;
    expect(sub.state).toBe('subscribed');
    expect(sub.position).toEqual({ offset: 0, epoch: expect.any(String) });

    await api('publish', { channel, data: { n: 1 } });
    await publishUdp({ channel, data: { n: 2 } });
    await until(() => got.length === 2, 5000, 'two publications');
    expect(got).toEqual([
      { channel, offset: 1, data: { n: 1 } },
      { channel, offset: 2, data: { n: 2 } },
    ]);
    expect(sub.position?.offset).toBe(2);
    expect(states).toEqual(['connecting', 'connected']);
  });

  it('publishes from the client and receives its own publication', async () => {
    const c = client();
    const channel = unique('chat');
    const sub = c.subscribe(channel);
    const got: unknown[] = [];
    sub.on('publication', (p) => got.push(p.data));
    c.connect();
    await until(() => sub.state === 'subscribed');
    await expect(c.publish(channel, 'hello')).resolves.toEqual({ recipients: 1 });
    await until(() => got.length === 1);
    expect(got).toEqual(['hello']);
  });

  it('emits where-only publications on the client with the attributes it connected with', async () => {
    const tag = unique('tag');
    const c = client({ attrs: { tag } });
    const got: Publication[] = [];
    c.on('publication', (p) => got.push(p));
    c.connect();
    await connected(c);
    await api('publish', { where: { tag }, data: { hello: tag } });
    await until(() => got.length === 1);
    expect(got[0]).toEqual({ data: { hello: tag } });
  });

  it('tells when the backend subscribes the connection and delivers those publications on the client', async () => {
    const user = unique('u');
    const c = client({ token: mintToken({ sub: user }) });
    const events: string[] = [];
    const got: Publication[] = [];
    c.on('subscribe', (e) => events.push(`subscribe ${e.channel}`));
    c.on('unsubscribe', (e) => events.push(`unsubscribe ${e.channel}`));
    c.on('publication', (p) => got.push(p));
    c.connect();
    await connected(c);
    const channel = unique('approvals');
    await expect(api('subscribe', { user, channel })).resolves.toEqual({ connections: 1 });
    await api('publish', { channel, data: 'approved' });
    await until(() => got.length === 1);
    expect(got[0]).toEqual({ channel, offset: 1, data: 'approved' });
    await api('unsubscribe', { user, channel });
    await until(() => events.length === 2);
    expect(events).toEqual([`subscribe ${channel}`, `unsubscribe ${channel}`]);
  });

  it('replaces its attributes with setAttrs, and keeps them for reconnects', async () => {
    const user = unique('u');
    const before = unique('tag');
    const after = unique('tag');
    const c = client({ token: mintToken({ sub: user }), attrs: { tag: before } });
    const got: unknown[] = [];
    c.on('publication', (p) => got.push(p.data));
    c.connect();
    await connected(c);
    await c.setAttrs({ tag: after });
    await api('publish', { where: { tag: before }, data: 'old' });
    await api('publish', { where: { tag: after }, data: 'new' });
    await until(() => got.length === 1);
    const firstClient = c.info!.client;
    await api('disconnect', { user });
    await until(() => c.state === 'connected' && c.info!.client !== firstClient, 5000, 'reconnected');
    await api('publish', { where: { tag: after }, data: 'again' });
    await until(() => got.length === 2);
    expect(got).toEqual(['new', 'again']);
  });

  it('rejects commands with the server error', async () => {
    const c = client();
    c.connect();
    await connected(c);
    await expect(c.publish('nope:1', 1)).rejects.toMatchObject({ code: 113 });
    await expect(c.presenceStats(unique('never-subscribed'))).rejects.toMatchObject({ code: 103 });
  });

  it('reports a refused subscription and tries again when asked', async () => {
    const c = client();
    const channel = `orders#${unique('someone')}`;
    const sub = c.subscribe(channel);
    const errors: number[] = [];
    sub.on('error', (e) => errors.push(e.code));
    c.connect();
    await until(() => errors.length === 1, 5000, 'refusal');
    expect(errors).toEqual([103]);
    expect(sub.state).toBe('unsubscribed');
    expect(c.subscribe(channel)).toBe(sub);
    await until(() => errors.length === 2, 5000, 'second refusal');
    expect(c.state).toBe('connected');
  });

  it('does not reconnect after a 4500-4999 close', async () => {
    const user = unique('u');
    const c = client({ token: mintToken({ sub: user }) });
    const closes: number[] = [];
    c.on('disconnect', (d) => closes.push(d.code));
    c.connect();
    await connected(c);
    await api('disconnect', { user, reconnect: false });
    await until(() => c.state === 'disconnected');
    await new Promise((r) => setTimeout(r, 300));
    expect(c.state).toBe('disconnected');
    expect(closes).toEqual([4502]);
  });
});
