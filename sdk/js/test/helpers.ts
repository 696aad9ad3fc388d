// What the tests share: the server's addresses, tokens, publishing, and waiting with a deadline.
import { createHmac, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import WebSocket from 'ws';
import { inject } from 'vitest';
import { Herald, webSocketTransport, type HeraldOptions, type Transport, type TransportConnection, type WebSocketConstructor } from '../src';

export const port = inject('heraldPort');
export const udpPort = inject('heraldUdpPort');
const secret = inject('heraldSecret');
export const wsUrl = `ws://127.0.0.1:${port}/`;
export const wsTransport = webSocketTransport(WebSocket as unknown as WebSocketConstructor);

/** A name no other test uses. */
export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An HS256 connection token signed with the server's secret. */
export function mintToken(claims: Record<string, unknown>, ttlSeconds?: number): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = { iat: now, ...(ttlSeconds !== undefined ? { exp: now + ttlSeconds } : {}), ...claims };
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/** Calls the HTTP API on loopback (no key needed there). */
export async function api<T = any>(method: string, body: object): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${port}/api/${method}`, { method: 'POST', body: JSON.stringify(body) });
  const json = await res.json();
  if (res.status !== 200) throw new Error(`${method} answered ${res.status}: ${JSON.stringify(json)}`);
  return json as T;
}

/** Sends one publish body as a UDP datagram. */
export function publishUdp(body: object): Promise<void> {
  return new Promise((ok, fail) => {
    const socket = createSocket('udp4');
    socket.send(JSON.stringify(body), udpPort, '127.0.0.1', (error) => {
      socket.close();
      error ? fail(error) : ok();
    });
  });
}

/** Waits until `check` returns something truthy, or fails after `ms`. */
export async function until<T>(check: () => T, ms = 5000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const clients: Herald[] = [];

/** A client over `ws`, closed by `closeClients()`. */
export function client(options: HeraldOptions = {}): Herald {
  const c = new Herald(wsUrl, { transport: wsTransport, minReconnectDelay: 50, maxReconnectDelay: 300, ...options });
  clients.push(c);
  return c;
}

export function closeClients(): void {
  for (const c of clients.splice(0)) c.disconnect();
}

/** Resolves when the client is connected. */
export function connected(c: Herald, ms = 5000): Promise<void> {
  return until(() => c.state === 'connected', ms, 'connected').then(() => undefined);
}

/**
 * A `ws` transport the test can hold back: while paused, new sockets wait before opening, so publishes happen
 * while the client is away; while deaf, frames from the server are dropped, as if the server went silent.
 */
export function controllableTransport() {
  let paused = false;
  let deaf = false;
  const waiting: (() => void)[] = [];
  const transport: Transport = (url, protocols, handlers) => {
    let conn: TransportConnection | undefined;
    let closed = false;
    const start = () => {
      if (closed) return;
      conn = wsTransport(url, protocols, { ...handlers, onMessage: (text) => !deaf && handlers.onMessage(text) });
    };
    if (paused) waiting.push(start);
    else start();
    return {
      send: (text) => conn?.send(text),
      close: (code, reason) => {
        closed = true;
        conn?.close(code, reason);
      },
    };
  };
  return {
    transport,
    pause: () => void (paused = true),
    resume: () => {
      paused = false;
      for (const start of waiting.splice(0)) start();
    },
    setDeaf: (value: boolean) => void (deaf = value),
  };
}
