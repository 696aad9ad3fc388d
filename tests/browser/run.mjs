// Drives examples/browser/ in a real Chromium (Debian's `chromium`, through playwright-core) against a real Herald
// started here on free loopback ports with SQLite in a temporary folder. The page is served over HTTP from 127.0.0.1,
// as a developer would serve it (a page on about:blank may not open ws://localhost in current Chromium).
// Prints one line per check and "N passed, M failed"; saves screenshots to $HERALD_TEST_RESULTS/browser (default
// TestResults/browser at the repository root). See ./test.sh, which installs what this needs.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const shots = join(resolve(process.env.HERALD_TEST_RESULTS || join(repo, 'TestResults')), 'browser');
const SECRET = 'herald-browser-test-secret-0123456789abcdef';
const OTHER_SECRET = 'not-the-server-secret-0123456789abcdef-xyz';
const CHANNEL = 'notifications#42';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const freeTcpPort = () => new Promise((ok, fail) => {
  const s = createServer().once('error', fail);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
});
const freeUdpPort = () => new Promise((ok, fail) => {
  const s = createSocket('udp4').once('error', fail);
  s.bind(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => ok(port)); });
});

/** Polls until check() returns a truthy value, or fails naming what it waited for and what it saw last. */
async function until(what, check, ms = 10000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e.message;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last !== undefined && last !== false ? ` (last: ${JSON.stringify(last)})` : ''}`);
    await sleep(50);
  }
}

const b64url = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
/** An HS256 connection token for `user`, as a backend would mint it. */
function token(user, secret = SECRET) {
  const head = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: String(user), exp: Math.floor(Date.now() / 1000) + 600 })}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

// ---- Herald: started, killed with SIGKILL and started again on the same ports and database
const port = await freeTcpPort();
const udpPort = await freeUdpPort();
const http = `http://127.0.0.1:${port}`;
const dataDir = mkdtempSync(join(tmpdir(), 'herald-browser-'));
const log = [];
let server;

async function startHerald({ secret = true } = {}) {
  const args = [join(repo, 'src/Herald/bin/Debug/net10.0/herald.dll'), 'serve', '--host', '127.0.0.1', '--port', String(port),
    '--udp-port', String(udpPort), '--data-dir', dataDir];
  if (secret) args.push('--token-secret', SECRET);
  const child = spawn('dotnet', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => log.push(String(d)));
  child.stderr.on('data', (d) => log.push(String(d)));
  server = child;
  await until('Herald to answer GET /health', async () => {
    if (child.exitCode !== null) throw new Error(`herald exited with ${child.exitCode}:\n${log.join('')}`);
    return fetch(`${http}/health`).then((r) => r.ok, () => false);
  }, 30000);
}
async function stopHerald(signal) {
  if (!server || server.exitCode !== null) return;
  const exited = new Promise((r) => server.once('exit', r));
  server.kill(signal);
  const timer = setTimeout(() => server.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
process.on('exit', () => { if (server && server.exitCode === null) server.kill('SIGKILL'); });

async function api(method, body) {
  const res = await fetch(`${http}/api/${method}`, { method: 'POST', body: JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}
function udpPublish(body) {
  const socket = createSocket('udp4');
  return new Promise((ok, fail) => socket.send(JSON.stringify(body), udpPort, '127.0.0.1', (e) => { socket.close(); e ? fail(e) : ok(); }));
}

// ---- the page's web server: the repository's examples/browser and sdk/js/dist, and the backend's /herald-token
let tokenEndpoint = 'off'; // 'off': 404, as when the page's server has no token endpoint; 'on': a token for user 42
const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };
const web = createHttpServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  if (path === '/herald-token') {
    if (tokenEndpoint === 'on') return res.writeHead(200, { 'content-type': 'text/plain' }).end(token(42));
    return res.writeHead(404).end('not found');
  }
  const file = resolve(repo, '.' + (path.endsWith('/') ? path + 'index.html' : path));
  const served = [join(repo, 'examples/browser') + sep, join(repo, 'sdk/js/dist') + sep];
  if (!served.some((dir) => file.startsWith(dir)) || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
    return res.writeHead(404).end('not found');
  }
  res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
});
const webPort = await new Promise((ok) => web.listen(0, '127.0.0.1', () => ok(web.address().port)));

// ---- checks
const results = [];
let onFailure = async () => {};
async function check(name, body) {
  try {
    await Promise.race([body(), sleep(30000).then(() => { throw new Error('took over 30 s'); })]);
    results.push(true);
    console.log(`ok   ${name}`);
  } catch (e) {
    results.push(false);
    console.log(`FAIL ${name}: ${e?.message ?? e}`);
    await onFailure(results.length).catch(() => {});
  }
}

let browser;
let status = 1;
const pageErrors = [];
try {
  await startHerald();
  browser = await chromium.launch({
    executablePath: process.env.HERALD_CHROMIUM || '/usr/bin/chromium',
    // Chromium's sandbox cannot start as root (CI containers); the page is our own.
    args: ['--no-sandbox'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  mkdirSync(shots, { recursive: true });
  const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  // What the page showed when a check failed.
  onFailure = (n) => shot(`failed-check-${n}`);

  const stateOf = (client) => page.getAttribute(`#${client}-status`, 'data-state');
  const statusText = (client) => page.textContent(`#${client}-status`).then((t) => t.replace(/\s+/g, ' ').trim());
  const feedItems = (client) => page.$$eval(`#${client}-feed > li`, (items) => items.map((li) => ({
    kind: li.dataset.kind, offset: li.dataset.offset, recovered: li.dataset.recovered === 'true', text: li.textContent,
  })));
  const cards = async (client, kind) => (await feedItems(client)).filter((i) => i.kind === kind);
  const waitState = (client, state, ms) => until(`the ${client} client to be ${state}`, async () => (await stateOf(client)) === state || statusText(client).then((t) => t && false), ms);
  const toggle = (client) => page.click(`#${client}-toggle`);
  const connections = async () => (await fetch(`${http}/health`).then((r) => r.json())).connections;

  await check('the page explains itself: instructions, labelled inputs, a status per client, nothing connected', async () => {
    await page.goto(`http://127.0.0.1:${webPort}/examples/browser/?herald=${encodeURIComponent(`ws://127.0.0.1:${port}/`)}`);
    await page.waitForSelector('#native-try:not(:empty)');
    const steps = await page.$$eval('.steps li', (items) => items.length);
    if (steps !== 3) throw new Error(`expected 3 visible steps, found ${steps}`);
    for (const id of ['url', 'school', 'class', 'token', 'channel']) {
      const labelled = await page.$eval(`#${id}`, (input) => !!input.closest('label')?.textContent.trim());
      if (!labelled) throw new Error(`#${id} has no label`);
    }
    for (const client of ['plain', 'native']) {
      if ((await stateOf(client)) !== 'disconnected') throw new Error(`${client} is not disconnected at start`);
    }
    const curl = await page.textContent('#native-try');
    if (!curl.includes(`${http}/api/publish`) || !curl.includes(CHANNEL)) throw new Error(`the publish command does not name this server and channel: ${curl}`);
    await shot('01-start');
  });

  await check('plain client: a double click opens one connection; HTTP and UDP publishes arrive as cards', async () => {
    await page.dblclick('#plain-toggle');
    await waitState('plain', 'connected');
    await until('the attributes to apply', async () => (await api('count', { where: { school_class_id: '1' } })).connections === 1);
    await sleep(300); // a second connection, if any, would be counted by now
    const count = (await api('count', { where: { school_id: '2' } })).connections;
    if (count !== 1) throw new Error(`${count} plain connections are open`);
    await api('publish', { where: { school_id: '2' }, data: { title: 'Hello class', body: 'Maths moved to room 12' } });
    await udpPublish({ where: { school_id: '2' }, data: { title: 'Fire drill at 10:00' } });
    const got = await until('two cards', async () => ((await cards('plain', 'where')).length === 2 ? cards('plain', 'where') : false));
    if (!got.some((c) => c.text.includes('Maths moved to room 12')) || !got.some((c) => c.text.includes('Fire drill at 10:00'))) {
      throw new Error(`unexpected cards: ${JSON.stringify(got)}`);
    }
  });

  await check('SDK client with a token from /herald-token: subscribed, channel publishes and inbox entries (acknowledged)', async () => {
    tokenEndpoint = 'on';
    await toggle('native');
    await waitState('native', 'connected');
    if (!(await statusText('native')).includes('as user 42')) throw new Error(`status: ${await statusText('native')}`);
    await until('the subscribed notice', async () => (await feedItems('native')).some((i) => i.kind === 'subscribed'));
    await api('publish', { channel: CHANNEL, data: { title: 'Order shipped', order: 1001, carrier: 'DHL' } });
    await api('publish', { channel: CHANNEL, data: 'a plain text message' });
    await api('publish', { user: '42', data: { title: 'You have a new message', from: 'Ana' } });
    await until('offsets 1 and 2', async () => (await cards('native', 'channel')).map((c) => c.offset).join() === '2,1');
    await until('the inbox entry', async () => (await cards('native', 'inbox')).length === 1);
    await until('the inbox acknowledgement', async () => (await api('inbox', { user: '42' })).acked === 1);
    // The raw JSON is there, folded away.
    const open = await page.$eval('#native-feed .card details', (d) => d.open);
    if (open) throw new Error('raw JSON is shown by default');
    await page.click('#native-feed .card[data-kind="channel"][data-offset="1"] summary');
    await shot('02-connected');
  });

  await check('server killed (SIGKILL) and restarted: both clients show the lost connection, reconnect, and the SDK client recovers', async () => {
    await stopHerald('SIGKILL');
    await waitState('plain', 'reconnecting', 5000);
    await waitState('native', 'reconnecting', 5000);
    for (const client of ['plain', 'native']) {
      const text = await statusText(client);
      if (!/Reconnecting (in|within) \d+ s/.test(text) || !text.includes('Connection lost (1006)')) throw new Error(`${client} status: ${text}`);
    }
    await shot('03-reconnecting');
    await startHerald();
    // Published as soon as the server is back: the SDK client gets it recovered, or live when it is back already.
    await api('publish', { channel: CHANNEL, data: { title: 'Sent while you were away' } });
    await waitState('native', 'connected', 20000);
    await waitState('plain', 'connected', 20000);
    await until('offset 3', async () => (await cards('native', 'channel')).some((c) => c.offset === '3'));
    const notices = (await feedItems('native')).filter((i) => i.kind === 'recovered' || i.kind === 'not-recovered');
    if (notices[0]?.kind !== 'recovered') throw new Error(`expected a recovery notice, got ${JSON.stringify(notices)}`);
    const offsets = (await cards('native', 'channel')).map((c) => c.offset);
    if (offsets.join() !== '3,2,1') throw new Error(`offsets ${offsets}`);
    await until('the plain attributes after the reconnect', async () => (await api('count', { where: { school_id: '2' } })).connections === 1);
    await api('publish', { where: { school_id: '2' }, data: { title: 'Back after the restart' } });
    await until('the plain card', async () => (await cards('plain', 'where')).some((c) => c.text.includes('Back after the restart')));
  });

  await check('Disconnect, three publishes, Connect: "Recovered 3 missed messages", each once', async () => {
    await toggle('native');
    await waitState('native', 'disconnected');
    if (!(await statusText('native')).includes('You closed the connection')) throw new Error(`status: ${await statusText('native')}`);
    await until('the SDK connection to close', async () => (await api('presence_stats', { channel: CHANNEL }).catch(() => ({ connections: 0 }))).connections === 0);
    for (let i = 1; i <= 3; i++) await api('publish', { channel: CHANNEL, data: { title: `Missed ${i}` } });
    const before = (await feedItems('native')).length;
    await toggle('native');
    const notice = await until('the recovery notice', async () => (await feedItems('native')).slice(0, -before).find((i) => i.kind === 'recovered'));
    if (!notice.text.startsWith('Recovered 3 missed messages')) throw new Error(`notice: ${notice.text}`);
    const channel = await cards('native', 'channel');
    if (channel.map((c) => c.offset).join() !== '6,5,4,3,2,1') throw new Error(`offsets ${channel.map((c) => c.offset)}`);
    if (!channel.slice(0, 3).every((c) => c.recovered)) throw new Error('the missed messages are not marked recovered');
    await shot('04-recovered');
  });

  await check('history removed while away: "Could not recover"', async () => {
    await toggle('native');
    await waitState('native', 'disconnected');
    await until('the SDK connection to close', async () => (await api('presence_stats', { channel: CHANNEL }).catch(() => ({ connections: 0 }))).connections === 0);
    await api('history_remove', { channel: CHANNEL });
    await api('publish', { channel: CHANNEL, data: { title: 'After the history was removed' } });
    await toggle('native');
    await until('the not-recovered notice', async () => (await feedItems('native')).some((i) => i.kind === 'not-recovered'));
    const text = (await feedItems('native')).find((i) => i.kind === 'not-recovered').text;
    if (!text.includes('Reload this channel')) throw new Error(`notice: ${text}`);
    await toggle('native');
    await waitState('native', 'disconnected');
  });

  await check('failures say why: no token, a bad token, a server without --token-secret', async () => {
    tokenEndpoint = 'off';
    await page.fill('#token', '');
    await toggle('native');
    await until('the no-token status', async () => (await stateOf('native')) === 'disconnected' && (await statusText('native')).includes('No token'));
    const noToken = await statusText('native');
    if (!noToken.includes('/herald-token (it answered 404)')) throw new Error(`no token: ${noToken}`);

    await page.fill('#token', token(42, OTHER_SECRET));
    await toggle('native');
    await until('the bad-token status', async () => (await stateOf('native')) === 'disconnected' && (await statusText('native')).includes('4503'));
    const bad = await statusText('native');
    if (!bad.includes('Unauthorized (4503)') || !/signature/i.test(bad)) throw new Error(`bad token: ${bad}`);
    await shot('05-bad-token');

    await stopHerald('SIGTERM');
    await startHerald({ secret: false });
    await waitState('plain', 'connected', 20000);
    await page.fill('#token', token(42));
    await toggle('native');
    await until('the no-secret status', async () => (await stateOf('native')) === 'disconnected' && (await statusText('native')).includes('4503'));
    const noKey = await statusText('native');
    if (!noKey.includes('no key to verify tokens')) throw new Error(`server without a secret: ${noKey}`);
    await shot('06-server-without-secret');
  });

  await check('the plain client\'s Disconnect closes it for good', async () => {
    await toggle('plain');
    await waitState('plain', 'disconnected');
    await until('no connection left', async () => (await connections()) === 0);
    await sleep(1200); // longer than the first reconnect delays: nothing comes back by itself
    if ((await connections()) !== 0 || (await stateOf('plain')) !== 'disconnected') throw new Error('the plain client came back');
  });

  await check('GET /demo, the page Herald serves: connects to its own server, shows HTTP and UDP publishes', async () => {
    const demo = await browser.newPage({ viewport: { width: 1000, height: 760 } });
    demo.on('pageerror', (e) => pageErrors.push(`/demo: ${e.message}`));
    try {
      await demo.goto(`${http}/demo`);
      await demo.click('#toggle');
      await until('the demo to connect', async () => (await demo.getAttribute('#status', 'data-state')) === 'connected');
      await until('the demo attributes', async () => (await api('count', { where: { school_class_id: '1' } })).connections === 1);
      const command = await demo.textContent('#http');
      if (!command.includes(`${http}/api/publish`)) throw new Error(`the demo's command names another server: ${command}`);
      await api('publish', { where: { school_id: '2' }, data: { title: 'Hello', body: 'from Herald' } });
      await udpPublish({ where: { school_id: '2' }, data: 'a UDP datagram' });
      await until('two messages', async () => (await demo.$$eval('#feed li', (items) => items.map((li) => li.textContent).join('|'))).match(/a UDP datagram.*from Herald/));
      await demo.screenshot({ path: join(shots, '07-demo.png'), fullPage: true });
      await demo.click('#toggle');
      await until('the demo to close', async () => (await connections()) === 0);
    } finally {
      await demo.close();
    }
  });

  await check('the page fits a phone\'s width', async () => {
    await page.setViewportSize({ width: 400, height: 860 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    if (overflow > 0) throw new Error(`the page is ${overflow} px wider than the screen`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(shots, '08-phone.png') });
  });

  if (pageErrors.length) {
    console.log(`FAIL the page threw: ${pageErrors.join('; ')}`);
    results.push(false);
  }
  status = results.every(Boolean) ? 0 : 1;
} catch (e) {
  console.log(`FAIL browser test: ${e?.message ?? e}`);
  results.push(false);
} finally {
  await browser?.close().catch(() => {});
  web.close();
  await stopHerald('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
  const errors = log.join('').split('\n').filter((line) => /(^| )(fail|crit): /.test(line));
  if (errors.length) {
    console.log(`FAIL herald logged errors:\n${errors.join('\n')}`);
    results.push(false);
    status = 1;
  }
}
const passed = results.filter(Boolean).length;
console.log(`screenshots: ${shots}`);
console.log(`${passed} passed, ${results.length - passed} failed`);
process.exit(status);
