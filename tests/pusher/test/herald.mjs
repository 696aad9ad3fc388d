// Starts the built Herald (dotnet herald.dll serve) on free loopback ports with Pusher apps, and native herald.v1
// clients to receive what the Pusher API publishes.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const TOKEN_SECRET = 'herald-pusher-tests-secret-0123456789abcdef';
export const APPS = {
  main: { appId: 'main', key: 'main-key', secret: 'main-secret' },
  shop: { appId: 'shop', key: 'shop-key', secret: 'shop-secret' },
};

function freePort(kind) {
  return new Promise((ok, fail) => {
    if (kind === 'udp') {
      const socket = createSocket('udp4');
      socket.once('error', fail);
      socket.bind(0, '127.0.0.1', () => { const { port } = socket.address(); socket.close(() => ok(port)); });
      return;
    }
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => { const { port } = server.address(); server.close(() => ok(port)); });
  });
}

/**
 * Starts Herald; returns { port, udpPort, stop() }. stop() fails when the server logged an error. `apps` replaces the
 * app list (objects of the `apps` setting), `args` are added to the command line, `engine` replaces `--memory`.
 */
export async function startHerald({ apps: appList, args = [], engine = ['--memory'] } = {}) {
  const port = await freePort('tcp');
  const udpPort = await freePort('udp');
  const apps = JSON.stringify(appList ?? Object.values(APPS).map((a) => ({ id: a.appId, key: a.key, secret: a.secret, max_events_per_batch: 4 })));
  const log = [];
  const server = spawn('dotnet', [
    join(repo, 'src/Herald/bin/Debug/net10.0/herald.dll'), 'serve',
    '--host', '127.0.0.1', '--port', String(port), '--udp-port', String(udpPort), ...engine,
    '--token-secret', TOKEN_SECRET, '--set', `apps=${apps}`, '--set', 'default_app=main', ...args,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout.on('data', (d) => log.push(String(d)));
  server.stderr.on('data', (d) => log.push(String(d)));
  const deadline = Date.now() + 30000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`herald exited with ${server.exitCode}:\n${log.join('')}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).status === 200) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`herald did not answer /health within 30 s:\n${log.join('')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    udpPort,
    async stop() {
      if (server.exitCode === null) {
        const exited = new Promise((r) => server.once('exit', r));
        server.kill('SIGTERM');
        const timer = setTimeout(() => server.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      const errors = log.join('').split('\n').filter((line) => /(^| )(fail|crit): /.test(line));
      if (errors.length) throw new Error(`herald logged errors:\n${errors.join('\n')}`);
    },
  };
}

function token(user) {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: user, exp: Math.floor(Date.now() / 1000) + 3600 })}`;
  return `${body}.${createHmac('sha256', TOKEN_SECRET).update(body).digest('base64url')}`;
}

/** A native (herald.v1) client of `user` (anonymous when null) subscribed to `channels`. */
export async function nativeSubscriber(port, user, channels) {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/`, 'herald.v1');
  const pushes = [];
  const waiters = [];
  const replies = new Map();
  let closeCode;
  const closed = new Promise((r) => socket.once('close', (code) => { closeCode = code; r(code); }));
  socket.on('message', (raw) => {
    const message = JSON.parse(String(raw));
    if (message.id !== undefined) { replies.get(message.id)?.(message); return; }
    if (message.push !== 'pub') return;
    pushes.push(message);
    waiters.splice(0).forEach((w) => w());
  });
  await new Promise((ok, fail) => { socket.once('open', ok); socket.once('error', fail); });
  let id = 0;
  const call = (method, params) => new Promise((ok, fail) => {
    const mine = ++id;
    const timer = setTimeout(() => fail(new Error(`no reply to ${method}`)), 10000);
    replies.set(mine, (m) => { clearTimeout(timer); m.error ? fail(new Error(JSON.stringify(m.error))) : ok(m.result); });
    socket.send(JSON.stringify({ id: mine, method, params }));
  });
  await call('connect', user ? { token: token(user) } : {});
  for (const channel of channels) await call('subscribe', { channel });
  return {
    /** The next publication's data, within 10 s. */
    async next() {
      const deadline = Date.now() + 10000;
      while (pushes.length === 0) {
        if (Date.now() > deadline) throw new Error('no publication within 10 s');
        await new Promise((r) => { waiters.push(r); setTimeout(r, 100); });
      }
      return pushes.shift();
    },
    async closeCode() {
      await Promise.race([closed, new Promise((_, fail) => setTimeout(() => fail(new Error('not closed within 10 s')), 10000))]);
      return closeCode;
    },
    get open() { return socket.readyState === WebSocket.OPEN; },
    close() { socket.terminate(); },
  };
}

/** Starts redis-server on a free loopback port; returns { port, stop() }. The repository's test.sh installs it. */
export async function startRedis() {
  const port = await freePort('tcp');
  const log = [];
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  server.on('error', (e) => log.push(String(e)));
  server.stdout.on('data', (d) => log.push(String(d)));
  server.stderr.on('data', (d) => log.push(String(d)));
  const deadline = Date.now() + 10000;
  while (!log.join('').includes('Ready to accept connections')) {
    if (server.exitCode !== null || log.join('').includes('ENOENT')) throw new Error(`redis-server did not start (install it: apt-get install redis-server):\n${log.join('')}`);
    if (Date.now() > deadline) throw new Error(`redis-server not ready within 10 s:\n${log.join('')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    async stop() {
      if (server.exitCode !== null) return;
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGKILL');
      await exited;
    },
  };
}
