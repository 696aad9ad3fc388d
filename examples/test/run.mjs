// Runs every example against a real Herald started here on free loopback ports (see ../test.sh, which builds Herald
// and the JS SDK first). Prints one line per example and "N passed, M failed"; exits 1 on failure.
import { spawn, execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { fakeMiniApi } from './fakes.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const examples = resolve(here, '..');
const repo = resolve(examples, '..');
const run = promisify(execFile);
const SECRET = 'herald-examples-test-secret-0123456789abcdef';
const API_KEY = 'herald-examples-test-key';

const freeTcpPort = () => new Promise((ok, fail) => {
  const s = createServer().once('error', fail);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
});
const freeUdpPort = () => new Promise((ok, fail) => {
  const s = createSocket('udp4').once('error', fail);
  s.bind(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls until check() returns a truthy value, or fails with what it was waiting for. */
async function until(what, check, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
/** An HS256 connection token, as a backend would mint it (the PHP and Java SDKs do the same). */
function token(user) {
  const head = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: String(user), exp: Math.floor(Date.now() / 1000) + 600 })}`;
  return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`;
}

// ---- the server
const port = await freeTcpPort();
const udpPort = await freeUdpPort();
const http = `http://127.0.0.1:${port}`;
const wsUrl = `ws://127.0.0.1:${port}/`;
const log = [];
const server = spawn('dotnet', [
  join(repo, 'src/Herald/bin/Debug/net10.0/herald.dll'), 'serve',
  '--host', '127.0.0.1', '--port', String(port), '--udp-port', String(udpPort),
  '--memory', '--token-secret', SECRET, '--api-key', API_KEY,
], { stdio: ['ignore', 'pipe', 'pipe'] });
// Never leave the server behind, even when the runner crashes (an unhandled rejection ends Node at once).
process.on('exit', () => { if (server.exitCode === null) server.kill('SIGKILL'); });
server.stdout.on('data', (d) => log.push(String(d)));
server.stderr.on('data', (d) => log.push(String(d)));

async function api(method, body) {
  const res = await fetch(`${http}/api/${method}`, { method: 'POST', headers: { 'X-API-Key': API_KEY }, body: JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}
const history = (channel) => api('history', { channel }).then((h) => h.publications.map((p) => p.data));

/** A plain WebSocket client with these attributes, once the server has applied them (ping/pong comes after). */
async function plainClient(attrs) {
  const ws = new WebSocket(wsUrl);
  const received = [];
  await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = () => fail(new Error('plain client could not connect')); });
  ws.onmessage = (e) => received.push(String(e.data));
  ws.send(JSON.stringify(attrs));
  ws.send('ping');
  await until('pong', () => received.includes('pong'));
  return { ws, received };
}

const results = [];
async function example(name, body) {
  try {
    await Promise.race([body(), sleep(15000).then(() => { throw new Error('took over 15 s'); })]);
    results.push(true);
    console.log(`ok   ${name}`);
  } catch (e) {
    results.push(false);
    console.log(`FAIL ${name}: ${e?.message ?? e}`);
  }
}

let status = 1;
try {
  await until('GET /health', async () => {
    if (server.exitCode !== null) throw new Error(`herald exited with ${server.exitCode}:\n${log.join('')}`);
    return fetch(`${http}/health`).then((r) => r.ok, () => false);
  }, 30000);

  await example('php/udp_push.php: a plain WebSocket client of school 2 receives the UDP push', async () => {
    const client = await plainClient({ school_id: '2', school_class_id: '1' });
    const { stdout } = await run('php', [join(examples, 'php/udp_push.php'), '127.0.0.1', String(udpPort)]);
    if (!stdout.startsWith('sent to')) throw new Error(`unexpected output: ${stdout}`);
    const text = await until('the push', () => client.received.find((m) => m.includes('Maths: page 42')));
    if (JSON.parse(text).type !== 'homework') throw new Error(`unexpected data: ${text}`);
    client.ws.close();
  });

  await example('browser/app.js: plain client and native client (JS SDK) receive publishes; statuses and reasons', async () => {
    const { plainClient, nativeClient, describeClose } = await import('../browser/app.js');
    /** What ui.js would draw: every status, message and notice, in order. */
    const recorder = () => {
      const r = { statuses: [], messages: [], notices: [], errors: [] };
      r.on = { status: (s) => r.statuses.push(s), message: (m) => r.messages.push(m), notice: (n) => r.notices.push(n), error: (t) => r.errors.push(t) };
      r.state = () => r.statuses.at(-1)?.state;
      return r;
    };
    const plain = recorder();
    const ws = plainClient(wsUrl, { school_id: '9', school_class_id: '3' }, plain.on);
    ws.connect();
    ws.connect(); // a second connect while one is open does nothing
    await until('the attributes to apply', async () => (await api('count', { where: { school_class_id: '3' } })).connections === 1);
    await api('publish', { where: { school_id: '9' }, data: { notice: 'closed tomorrow' } });
    await until('the plain publish', () => plain.messages.some((m) => m.kind === 'where' && m.data.notice === 'closed tomorrow'));
    if ((await api('count', { where: { school_class_id: '3' } })).connections !== 1) throw new Error('connect() twice opened two connections');
    // A disconnect from the backend that allows a reconnect: the plain client comes back by itself.
    const { clients } = await api('count', { where: { school_class_id: '3' }, list: true });
    await api('disconnect', { client: clients[0].client });
    await until('the reconnecting status', () => plain.statuses.some((s) => s.state === 'reconnecting' && s.close.code === 4004));
    await until('the reconnect', async () => plain.state() === 'connected' && (await api('count', { where: { school_class_id: '3' } })).connections === 1);
    ws.disconnect();
    if (plain.state() !== 'disconnected' || plain.statuses.at(-1).close.title !== 'Disconnected') throw new Error(`after disconnect: ${JSON.stringify(plain.statuses.at(-1))}`);

    const native = recorder();
    const herald = nativeClient(wsUrl, { getToken: async () => token(42), channel: 'notifications#42' }, native.on);
    herald.connect();
    await until('the subscription', () => native.notices.some((n) => n.kind === 'subscribed' && n.text === 'Subscribed to notifications#42 at offset 0'));
    await api('publish', { channel: 'notifications#42', data: { title: 'channel hello' } });
    await api('publish', { user: '42', data: { title: 'inbox hello' } });
    await until('the channel publish', () => native.messages.some((m) => m.kind === 'channel' && m.offset === 1 && m.data.title === 'channel hello'));
    await until('the inbox entry', () => native.messages.some((m) => m.kind === 'inbox' && m.offset === 1 && m.data.title === 'inbox hello'));
    await until('the inbox ack', async () => (await api('inbox', { user: '42' })).acked === 1);
    herald.disconnect();
    await api('publish', { channel: 'notifications#42', data: { title: 'missed' } });
    // A new client of the same channel recovers from the previous one's position.
    const again = nativeClient(wsUrl, { getToken: async () => token(42), channel: 'notifications#42', since: herald.subscription.position }, native.on);
    again.connect();
    await until('the recovery notice', () => native.notices.some((n) => n.kind === 'recovered' && n.text === 'Recovered 1 missed message'));
    again.disconnect();

    const refused = recorder();
    const bad = nativeClient(wsUrl, { getToken: async () => 'not-a-token', channel: 'notifications#42' }, refused.on);
    bad.connect();
    await until('the refusal', () => refused.state() === 'disconnected');
    const close = refused.statuses.at(-1).close;
    if (close.code !== 4503 || !close.text.startsWith('Unauthorized (4503)') || !close.reason.includes('malformed token')) throw new Error(`refusal: ${JSON.stringify(close)}`);
    if (describeClose(1006).title !== 'Connection lost') throw new Error('1006 is not described');
  });

  await example('vue/notifications.js (NotificationBell.vue): lists the user\'s notifications, unsubscribes on stop', async () => {
    const { startNotifications } = await import('../vue/notifications.js');
    let items = [];
    const feed = startNotifications({ url: wsUrl, userId: 7, getToken: async () => token(7), onChange: (l) => (items = l) });
    await until('the subscription', () => feed.subscription.state === 'subscribed');
    await api('publish', { channel: 'notifications#7', data: { title: 'first' } });
    await api('publish', { channel: 'notifications#7', data: { title: 'second' } });
    await until('two notifications', () => items.length === 2);
    if (items[0].title !== 'second' || items[1].title !== 'first') throw new Error(`wrong order: ${JSON.stringify(items)}`);
    await feed.stop();
    await until('the unsubscribe', async () => (await api('presence_stats', { channel: 'notifications#7' }).catch(() => ({ connections: 0 }))).connections === 0);
    if (feed.subscription.state !== 'unsubscribed' || feed.herald.state !== 'disconnected') throw new Error('still subscribed');
  });

  await example('uniapp/pages/notify-logic.js (notify.vue): uniTransport(uni), list and toast', async () => {
    const { startNotify, uniGetToken } = await import('../uniapp/pages/notify-logic.js');
    const uni = fakeMiniApi('uni', () => token(8));
    let list = [];
    const stop = startNotify({ uni, url: wsUrl, userId: 8, getToken: uniGetToken(uni, 'https://api.example.com/herald-token'), onChange: (l) => (list = l) });
    await until('the subscription', async () => (await api('presence_stats', { channel: 'notifications#8' }).catch(() => ({}))).connections === 1);
    await api('publish', { channel: 'notifications#8', data: { title: 'from uni' } });
    await until('the notification', () => list.length === 1 && uni.toasts.length === 1);
    if (uni.toasts[0].title !== 'from uni') throw new Error(`toast: ${JSON.stringify(uni.toasts)}`);
    await stop();
  });

  await example('miniprogram/pages/notify/notify-logic.js (notify.js): wxTransport(wx), list and toast', async () => {
    const { startNotify, wxGetToken } = createRequire(import.meta.url)('../miniprogram/pages/notify/notify-logic.js');
    const wx = fakeMiniApi('wx', () => token(9));
    let list = [];
    const stop = startNotify({ wx, url: wsUrl, userId: 9, getToken: wxGetToken(wx, 'https://api.example.com/herald-token'), onChange: (l) => (list = l) });
    await until('the subscription', async () => (await api('presence_stats', { channel: 'notifications#9' }).catch(() => ({}))).connections === 1);
    await api('publish', { channel: 'notifications#9', data: { title: 'from wx' } });
    await until('the notification', () => list.length === 1 && wx.toasts.length === 1);
    if (wx.toasts[0].title !== 'from wx') throw new Error(`toast: ${JSON.stringify(wx.toasts)}`);
    await stop();
  });

  await example('laravel/NotificationController.php: notify() publishes once per request_id', async () => {
    const { stdout } = await run('php', [join(here, 'laravel_check.php'), http, API_KEY]);
    const reply = JSON.parse(stdout);
    if (reply.offset !== 1) throw new Error(`unexpected reply: ${stdout}`);
    const got = await history('notifications#5');
    if (got.length !== 1 || got[0].title !== 'Invoice paid' || got[0].body !== 'INV-1001') throw new Error(`history: ${JSON.stringify(got)}`);
  });

  await example('spring/NotificationService.java: notifyUser (HTTP) and broadcastToSchool (UDP)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'herald-examples-'));
    try {
      const sources = ['HeraldClient', 'HeraldException', 'Json', 'Message'].map((c) => join(repo, `sdk/java/src/main/java/io/herald/${c}.java`));
      await run('javac', ['-nowarn', '-d', out, ...sources, join(examples, 'spring/NotificationService.java'), join(here, 'SpringCheck.java')]);
      const client = await plainClient({ school_id: '3' });
      const { stdout } = await run('java', ['-cp', out, 'SpringCheck', http, API_KEY, String(udpPort)]);
      if (!stdout.includes('recipients=')) throw new Error(`unexpected output: ${stdout}`);
      const got = await history('notifications#6');
      if (got.length !== 1 || got[0].title !== 'Leave approved') throw new Error(`history: ${JSON.stringify(got)}`);
      await until('the UDP broadcast', () => client.received.includes('{"from":"spring"}'));
      client.ws.close();
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
  status = results.every(Boolean) ? 0 : 1;
} catch (e) {
  console.log(`FAIL herald: ${e?.message ?? e}`);
  results.push(false);
} finally {
  const exited = new Promise((r) => (server.exitCode !== null ? r() : server.once('exit', r)));
  server.kill('SIGTERM');
  const timer = setTimeout(() => server.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
  const errors = log.join('').split('\n').filter((line) => /(^| )(fail|crit): /.test(line));
  if (errors.length) {
    console.log(`FAIL herald logged errors:\n${errors.join('\n')}`);
    results.push(false);
    status = 1;
  }
}
const passed = results.filter(Boolean).length;
console.log(`${passed} passed, ${results.length - passed} failed`);
process.exit(status);
