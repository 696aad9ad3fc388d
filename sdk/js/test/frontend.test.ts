// What a front-end developer expects: network changes are acted on at once, errors say what went wrong once per
// attempt, and a debug option tells what the client does.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { Herald, uniTransport, webSocketTransport, wxTransport, type DisconnectEvent, type Transport } from '../src';
import { fakeSocketApi } from './fakeSocketApi';
import { api, mintToken, unique, until, wsTransport, wsUrl } from './helpers';

const clients: Herald[] = [];
afterEach(() => {
  clients.splice(0).forEach((c) => c.disconnect());
  vi.restoreAllMocks();
});

// With these delays a reconnect that waited out the backoff would take at least 15 s (offline: the largest delay,
// at least half of it); coming back within 8 s shows the `online` event started it.
const slowBackoff = { minReconnectDelay: 20000, maxReconnectDelay: 30000 };

function make(transport: Transport, options: object = {}): Herald {
  const c = new Herald(wsUrl, { transport, ...slowBackoff, ...options });
  clients.push(c);
  return c;
}

/** Subscribes a client of `user` to a fresh channel, connects, and returns what it received. */
async function subscribedClient(transport: Transport, user: string, options: object = {}) {
  const c = make(transport, { token: mintToken({ sub: user }), ...options });
  const channel = unique('net');
  const sub = c.subscribe<{ n: number }>(channel);
  const got: number[] = [];
  const recovered: (boolean | undefined)[] = [];
  const disconnects: DisconnectEvent[] = [];
  sub.on('publication', (p) => got.push(p.data.n));
  sub.on('subscribed', (e) => recovered.push(e.recovered));
  c.on('disconnect', (d) => disconnects.push(d));
  c.on('error', () => {});
  c.connect();
  await until(() => sub.state === 'subscribed', 5000, 'subscribed');
  return { c, channel, sub, got, recovered, disconnects };
}

describe('network changes', () => {
  for (const flavor of ['wx', 'uni'] as const) {
    it(`${flavor}: drops the socket at once when offline and reconnects (and recovers) at once when online`, async () => {
      const platform = fakeSocketApi(flavor);
      const transport = flavor === 'wx' ? wxTransport(platform) : uniTransport(platform);
      const { c, channel, got, recovered, disconnects } = await subscribedClient(transport, unique('u'));
      expect(platform.networkListeners.length).toBe(1);

      platform.setNetwork(false);
      // The platform's socket still looks open; the client does not wait for keep-alive to notice.
      expect(c.state).toBe('connecting');
      expect(disconnects).toEqual([{ code: 1006, reason: 'the device went offline', reconnect: true }]);
      await api('publish', { channel, data: { n: 1 } });
      await new Promise((r) => setTimeout(r, 300));
      expect(platform.calls.length).toBe(1);

      platform.setNetwork(true);
      await until(() => recovered.length === 2, 8000, 'reconnected and resubscribed after online');
      expect(recovered).toEqual([undefined, true]);
      expect(got).toEqual([1]);
      expect(platform.calls.length).toBe(2);

      c.disconnect();
      expect(platform.networkListeners.length).toBe(0);
    });
  }

  it('browser: reacts to the window offline and online events', async () => {
    const target = new EventTarget();
    const global = globalThis as unknown as Record<string, unknown>;
    global.addEventListener = target.addEventListener.bind(target);
    global.removeEventListener = target.removeEventListener.bind(target);
    try {
      let sockets = 0;
      const counting: Transport = (url, protocols, handlers) => (sockets++, wsTransport(url, protocols, handlers));
      counting.watchNetwork = wsTransport.watchNetwork;
      const { c, channel, got, recovered, disconnects } = await subscribedClient(counting, unique('u'));
      target.dispatchEvent(new Event('offline'));
      expect(c.state).toBe('connecting');
      expect(disconnects[0]).toMatchObject({ code: 1006, reason: 'the device went offline', reconnect: true });
      await api('publish', { channel, data: { n: 1 } });
      target.dispatchEvent(new Event('online'));
      await until(() => recovered.length === 2, 8000, 'reconnected after online');
      expect(got).toEqual([1]);
      expect(sockets).toBe(2);
    } finally {
      delete global.addEventListener;
      delete global.removeEventListener;
    }
  });

  it('ignores network events with network: false', async () => {
    const platform = fakeSocketApi('wx');
    const { c, disconnects } = await subscribedClient(wxTransport(platform), unique('u'), { network: false });
    expect(platform.networkListeners.length).toBe(0);
    platform.setNetwork(false);
    expect(c.state).toBe('connected');
    expect(disconnects).toEqual([]);
  });
});

describe('errors a person can act on', () => {
  it('reports one error per failed attempt, saying which address could not be reached and why, and no disconnect', async () => {
    const events: string[] = [];
    const transport: Transport = (url, protocols, handlers) => (events.push('attempt'), wsTransport(url, protocols, handlers));
    const c = new Herald('ws://127.0.0.1:1/', { transport, minReconnectDelay: 20, maxReconnectDelay: 40, network: false });
    clients.push(c);
    const messages: string[] = [];
    c.on('error', (e) => (events.push('error'), messages.push(e.message)));
    c.on('disconnect', () => events.push('disconnect'));
    c.connect();
    await until(() => messages.length >= 3, 5000, 'three failed attempts');
    c.disconnect();
    const settled = events.length - (events[events.length - 1] === 'attempt' ? 1 : 0);
    expect(events.slice(0, settled)).toEqual(Array.from({ length: settled }, (_, i) => (i % 2 ? 'error' : 'attempt')));
    for (const message of messages) expect(message).toMatch(/^cannot connect to ws:\/\/127\.0\.0\.1:1\/: .*ECONNREFUSED/);
  });

  it('words the error of a browser WebSocket (an Event without details) as advice, not "[object Event]"', async () => {
    // Browsers fire a bare Event on a failed WebSocket, by design without the cause: this one does the same over `ws`.
    class BrowserLikeWebSocket {
      onopen: ((e: unknown) => void) | null = null;
      onmessage: ((e: { data: string }) => void) | null = null;
      onclose: ((e: { code: number; reason: string }) => void) | null = null;
      onerror: ((e: unknown) => void) | null = null;
      private readonly ws: WebSocket;
      constructor(url: string, protocols?: string | string[]) {
        this.ws = new WebSocket(url, protocols);
        this.ws.on('open', () => this.onopen?.({}));
        this.ws.on('message', (data) => this.onmessage?.({ data: String(data) }));
        this.ws.on('error', () => this.onerror?.(new Event('error')));
        this.ws.on('close', (code, reason) => this.onclose?.({ code, reason: String(reason) }));
      }
      get protocol() {
        return this.ws.protocol;
      }
      send(text: string) {
        this.ws.send(text);
      }
      close(code?: number, reason?: string) {
        this.ws.close(code, reason);
      }
    }
    const c = new Herald('ws://127.0.0.1:1/', { transport: webSocketTransport(BrowserLikeWebSocket), minReconnectDelay: 20, maxReconnectDelay: 40, network: false });
    clients.push(c);
    const messages: string[] = [];
    c.on('error', (e) => messages.push(e.message));
    c.connect();
    await until(() => messages.length >= 2, 5000, 'two failed attempts');
    for (const message of messages) {
      expect(message).toBe('cannot connect to ws://127.0.0.1:1/: the server did not answer (check the address, that Herald runs there, and the network)');
    }
  });

  it('passes on the cause a platform gives (Node\'s global WebSocket)', async () => {
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `
      const { Herald } = await import(${JSON.stringify(dist)});
      const c = new Herald('ws://127.0.0.1:1/', { minReconnectDelay: 60000 });
      c.on('error', (e) => { console.log(JSON.stringify(e.message)); c.disconnect(); process.exit(0); });
      c.connect();
      setTimeout(() => process.exit(2), 5000);`;
    const out = await new Promise<string>((ok, fail) =>
      execFile(process.execPath, ['--experimental-websocket', '--input-type=module', '-e', script], { timeout: 8000 }, (error, stdout, stderr) =>
        error ? fail(new Error(`${error.message}\n${stderr}`)) : ok(stdout),
      ),
    );
    const message = JSON.parse(out) as string;
    expect(message).not.toMatch(/object/);
    expect(message).toMatch(/^cannot connect to ws:\/\/127\.0\.0\.1:1\/: \w/);
  });
});

describe('debug', () => {
  it('tells a debug function what the client does', async () => {
    const lines: string[] = [];
    const { c } = await subscribedClient(wsTransport, unique('u'), { debug: (line: string) => lines.push(line) });
    expect(lines[0]).toBe(`connecting to ${wsUrl}`);
    expect(lines).toContainEqual(expect.stringMatching(/^connected as client \S+ of user u-/));
    expect(lines).toContainEqual(expect.stringMatching(/^net-\w+: subscribed at offset 0 \(epoch \w+\)$/));
    c.disconnect();
    expect(lines[lines.length - 1]).toBe('disconnected: 1000 client disconnected');
  });

  it('logs errors and the next attempt', async () => {
    const lines: string[] = [];
    const c = new Herald('ws://127.0.0.1:1/', { transport: wsTransport, minReconnectDelay: 20, maxReconnectDelay: 40, network: false, debug: (line) => lines.push(line) });
    clients.push(c);
    c.connect();
    await until(() => lines.some((line) => line.startsWith('next attempt in')), 5000, 'a logged retry');
    expect(lines).toContainEqual(expect.stringMatching(/^error 0: cannot connect to ws:\/\/127\.0\.0\.1:1\/: /));
  });

  it('logs to the console with debug: true, and says nothing by default', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await subscribedClient(wsTransport, unique('u'));
    expect(log).not.toHaveBeenCalled();
    await subscribedClient(wsTransport, unique('u'), { debug: true });
    expect(log).toHaveBeenCalledWith(`[herald] connecting to ${wsUrl}`);
  });
});
