import { afterEach, describe, expect, it } from 'vitest';
import { Herald, uniTransport, wxTransport, type Herald as HeraldType } from '../src';
import { fakeSocketApi } from './fakeSocketApi';
import { api, mintToken, publishUdp, unique, until, wsUrl } from './helpers';

const clients: HeraldType[] = [];
afterEach(() => clients.splice(0).forEach((c) => c.disconnect()));

function make(transport: ReturnType<typeof wxTransport>, token?: string) {
  const c = new Herald(wsUrl, { transport, token, minReconnectDelay: 50, maxReconnectDelay: 200 });
  clients.push(c);
  return c;
}

describe('mini-program transports', () => {
  it('wxTransport connects with the herald.v1 subprotocol, receives publications and recovers after a reconnect', async () => {
    const wx = fakeSocketApi('wx');
    const user = unique('u');
    const c = make(wxTransport(wx), mintToken({ sub: user }));
    const channel = unique('wx');
    const sub = c.subscribe(channel);
    const got: unknown[] = [];
    const recovered: (boolean | undefined)[] = [];
    sub.on('publication', (p) => got.push(p.data));
    sub.on('subscribed', (e) => recovered.push(e.recovered));
    c.connect();
    await until(() => sub.state === 'subscribed');
    expect(wx.calls[0]).toMatchObject({ url: wsUrl, protocols: ['herald.v1'] });
    expect(wx.tasks[0].protocol).toBe('herald.v1');

    await publishUdp({ channel, data: 'one' });
    await until(() => got.length === 1);
    await api('disconnect', { user });
    await until(() => c.state === 'connecting');
    await api('publish', { channel, data: 'two' });
    await until(() => recovered.length === 2, 5000, 'resubscribed');
    expect(recovered).toEqual([undefined, true]);
    expect(got).toEqual(['one', 'two']);
    expect(wx.calls.length).toBe(2);
  });

  it('uniTransport gets a SocketTask from uni.connectSocket and publishes', async () => {
    const uni = fakeSocketApi('uni');
    const c = make(uniTransport(uni));
    const channel = unique('uni');
    const sub = c.subscribe(channel);
    const got: unknown[] = [];
    sub.on('publication', (p) => got.push(p.data));
    c.connect();
    await until(() => sub.state === 'subscribed');
    expect(uni.calls[0].protocols).toEqual(['herald.v1']);
    await expect(sub.publish({ from: 'uni' })).resolves.toEqual({ recipients: 1 });
    await until(() => got.length === 1);
    expect(got).toEqual([{ from: 'uni' }]);
    c.disconnect();
    await until(() => uni.tasks[0].readyState === uni.tasks[0].CLOSED, 3000, 'socket closed');
    expect(c.state).toBe('disconnected');
  });

  it('reconnects with backoff while the server cannot be reached', async () => {
    const uni = fakeSocketApi('uni');
    const c = new Herald('ws://127.0.0.1:1/', { transport: uniTransport(uni), minReconnectDelay: 20, maxReconnectDelay: 80 });
    clients.push(c);
    c.on('error', () => {});
    c.connect();
    await until(() => uni.calls.length >= 4, 5000, 'several attempts');
    expect(c.state).toBe('connecting');
  });
});

describe('a transport that fails at once', () => {
  it('keeps retrying when the platform reports the close before connectSocket returns', async () => {
    let attempts = 0;
    const c = new Herald(wsUrl, {
      transport: (_url, _protocols, handlers) => {
        attempts++;
        handlers.onError(new Error('no network'));
        handlers.onClose(1006, '');
        return { send: () => {}, close: () => {} };
      },
      minReconnectDelay: 10,
      maxReconnectDelay: 40,
    });
    clients.push(c);
    const errors: string[] = [];
    c.on('error', (e) => errors.push(e.message));
    c.connect();
    await until(() => attempts >= 3, 3000, 'three attempts');
    expect(c.state).toBe('connecting');
    expect(errors[0]).toMatch(/no network/);
    c.disconnect();
    expect(c.state).toBe('disconnected');
    const before = attempts;
    await new Promise((r) => setTimeout(r, 100));
    expect(attempts).toBe(before);
  });
});

