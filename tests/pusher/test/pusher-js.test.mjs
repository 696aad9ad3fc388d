// pusher-js (its Node build) and Laravel Echo, unchanged, against Herald's Pusher WebSocket protocol at /app/{key};
// channel authorisations and sign-ins are signed by the npm `pusher` server SDK, events triggered by it, by UDP and by
// /api/publish.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import Pusher from 'pusher';
import PusherJs from 'pusher-js';
import EchoModule from 'laravel-echo';
import WebSocket from 'ws';
import { nativeSubscriber, startHerald } from './herald.mjs';

const Echo = EchoModule.default ?? EchoModule;
const MAIN = { appId: 'main', key: 'main-key', secret: 'main-secret' };
const SHOP = { appId: 'shop', key: 'shop-key', secret: 'shop-secret' };
const GATED = { appId: 'gated', key: 'gated-key', secret: 'gated-secret' };
const WAIT = 10000;

let herald;
const clients = [];
const sdk = (app) => new Pusher({ ...app, host: '127.0.0.1', port: herald.port, useTLS: false });

before(async () => {
  herald = await startHerald({
    apps: [
      { id: MAIN.appId, key: MAIN.key, secret: MAIN.secret, client_events: true },
      { id: SHOP.appId, key: SHOP.key, secret: SHOP.secret },
      { id: GATED.appId, key: GATED.key, secret: GATED.secret, enabled: false },
      { id: 'full', key: 'full-key', secret: 'full-secret', max_connections: 1 },
      { id: 'web', key: 'web-key', secret: 'web-secret', allowed_origins: ['https://shop.example'] },
    ],
  });
});
after(async () => {
  clients.forEach((c) => c.disconnect());
  await herald.stop();
});

/** Waits for `promise` at most WAIT ms; `what` names it in the failure. */
function within(promise, what) {
  let timer;
  return Promise.race([promise, new Promise((_, fail) => { timer = setTimeout(() => fail(new Error(`${what}: nothing within ${WAIT} ms`)), WAIT); })])
    .finally(() => clearTimeout(timer));
}

/** Options a pusher-js client needs for Herald: cluster is required by pusher-js 8 even with wsHost. */
function options(app, { user, presence } = {}) {
  const server = sdk(app);
  return {
    cluster: 'mt1',
    wsHost: '127.0.0.1',
    wsPort: herald.port,
    forceTLS: false,
    enabledTransports: ['ws'],
    disableStats: true,
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, callback) =>
        callback(null, server.authorizeChannel(socketId, channelName, channelName.startsWith('presence-') ? presence : undefined)),
    },
    userAuthentication: {
      customHandler: ({ socketId }, callback) => callback(null, server.authenticateUser(socketId, user)),
    },
  };
}

/** A pusher-js client of `app`, connected. */
async function connect(app, settings) {
  const client = new PusherJs(app.key, options(app, settings));
  clients.push(client);
  const seen = [];
  client.connection.bind('state_change', ({ current }) => seen.push(current));
  client.connection.bind('error', (e) => seen.push(JSON.stringify(e)));
  await within(new Promise((ok) => client.connection.bind('connected', ok)), 'connected').catch((e) => { throw new Error(`${e.message}: ${seen.join(', ')}`); });
  return client;
}

/** The next `name` event on `channel` (a pusher-js channel, the user facade or a global binding), with its metadata. */
function next(channel, name) {
  return within(new Promise((ok) => {
    const handler = (data, metadata) => { channel.unbind(name, handler); ok({ data, metadata }); };
    channel.bind(name, handler);
  }), `event ${name}`);
}

async function subscribed(client, name) {
  const channel = client.subscribe(name);
  await next(channel, 'pusher:subscription_succeeded');
  return channel;
}

/** A bare WebSocket at `path` that collects every frame, for what pusher-js does not show. */
async function raw(path, origin) {
  const socket = new WebSocket(`ws://127.0.0.1:${herald.port}${path}`, origin ? { origin } : {});
  const frames = [];
  const waiters = [];
  socket.on('message', (m) => { frames.push(JSON.parse(String(m))); waiters.splice(0).forEach((w) => w()); });
  const closed = new Promise((ok) => socket.once('close', (code) => ok(code)));
  await within(new Promise((ok, fail) => { socket.once('open', ok); socket.once('error', fail); }), 'open');
  return {
    socket,
    closed: () => within(closed, 'close'),
    send: (o) => socket.send(typeof o === 'string' ? o : JSON.stringify(o)),
    async frame(event) {
      const deadline = Date.now() + WAIT;
      for (;;) {
        const index = frames.findIndex((f) => f.event === event);
        if (index >= 0) return frames.splice(index, 1)[0];
        if (Date.now() > deadline) throw new Error(`no ${event} frame; got ${JSON.stringify(frames)}`);
        await new Promise((r) => { waiters.push(r); setTimeout(r, 100); });
      }
    },
  };
}

test('connects with a Pusher socket id and an activity timeout', async () => {
  const client = await connect(MAIN);
  assert.match(client.connection.socket_id, /^\d+\.\d+$/);
  const bare = await raw(`/app/${MAIN.key}?protocol=7&client=js&version=8.6.0`);
  const established = await bare.frame('pusher:connection_established');
  const data = JSON.parse(established.data);
  assert.match(data.socket_id, /^\d+\.\d+$/);
  assert.ok(data.activity_timeout > 0);
  bare.send({ event: 'pusher:ping', data: {} });
  await bare.frame('pusher:pong');
  bare.socket.close();
});

test('unknown key, disabled app, unsupported protocol and a full app are refused with Pusher codes', async () => {
  for (const [path, code] of [
    ['/app/no-such-key?protocol=7', 4001],
    [`/app/${GATED.key}?protocol=7`, 4003],
    [`/app/${MAIN.key}?protocol=3`, 4007],
    [`/app/${MAIN.key}`, 4007],
  ]) {
    const bare = await raw(path);
    const error = await bare.frame('pusher:error');
    assert.equal(error.data.code, code, path);
    assert.equal(await bare.closed(), code, path);
  }
  const first = await raw('/app/full-key?protocol=7');
  await first.frame('pusher:connection_established');
  const second = await raw('/app/full-key?protocol=7');
  assert.equal(await second.closed(), 4004);
  first.socket.close();
});

test("an app's allowed_origins admits its origins and closes others with 4009", async () => {
  const good = await raw('/app/web-key?protocol=7', 'https://shop.example');
  await good.frame('pusher:connection_established');
  good.socket.close();
  const bad = await raw('/app/web-key?protocol=7', 'https://evil.example');
  assert.equal((await bad.frame('pusher:error')).data.code, 4009);
  assert.equal(await bad.closed(), 4009);
});

test('pusher-js reports a refused app as an error and does not connect', async () => {
  const client = new PusherJs('no-such-key', options(MAIN));
  clients.push(client);
  const error = await within(new Promise((ok) => client.connection.bind('error', ok)), 'error');
  assert.equal(error.data?.code ?? error.error?.data?.code, 4001);
  assert.notEqual(client.connection.state, 'connected');
});

test('a bad frame gets pusher:error and the connection lives on', async () => {
  const bare = await raw(`/app/${MAIN.key}?protocol=7`);
  await bare.frame('pusher:connection_established');
  for (const bad of ['not json', '[1]', '{"data":{}}', '{"event":"pusher:subscribe","data":{}}', '{"event":"nope"}']) {
    bare.send(bad);
    const error = await bare.frame('pusher:error');
    assert.equal(typeof error.data.message, 'string', bad);
  }
  bare.send({ event: 'pusher:ping', data: {} });
  await bare.frame('pusher:pong');
  bare.socket.close();
});

test('public channel: events of the server SDK, UDP and /api/publish arrive', async () => {
  const client = await connect(MAIN);
  const orders = await subscribed(client, 'orders');
  const fromSdk = next(orders, 'order-created');
  await sdk(MAIN).trigger('orders', 'order-created', { id: 7, note: 'ünïcode' });
  assert.deepEqual((await fromSdk).data, { id: 7, note: 'ünïcode' });

  const fromUdp = next(orders, 'message');
  const udp = createSocket('udp4');
  await new Promise((ok, fail) => udp.send(JSON.stringify({ channel: 'orders', data: { via: 'udp' } }), herald.udpPort, '127.0.0.1', (e) => (e ? fail(e) : ok())));
  udp.close();
  assert.deepEqual((await fromUdp).data, { via: 'udp' });

  const fromApi = next(orders, 'order.shipped');
  const response = await fetch(`http://127.0.0.1:${herald.port}/api/publish`, {
    method: 'POST', body: JSON.stringify({ channel: 'orders', event: 'order.shipped', data: { via: 'api' } }),
  });
  assert.equal(response.status, 200);
  assert.deepEqual((await fromApi).data, { via: 'api' });
});

test('a pusher-js publish target and a native herald.v1 subscriber share the default app channel', async () => {
  const native = await nativeSubscriber(herald.port, null, ['shared']);
  const client = await connect(MAIN);
  const shared = await subscribed(client, 'shared');
  const got = next(shared, 'hello');
  await sdk(MAIN).trigger('shared', 'hello', 'text');
  assert.equal((await got).data, 'text');
  assert.equal((await native.next()).data, 'text');
  native.close();
});

test('private channel: a signed subscription succeeds, a bad signature gets subscription_error and the connection lives on', async () => {
  const client = await connect(MAIN);
  const room = await subscribed(client, 'private-room');
  const got = next(room, 'secret');
  await sdk(MAIN).trigger('private-room', 'secret', { n: 1 });
  assert.deepEqual((await got).data, { n: 1 });

  const bare = await raw(`/app/${MAIN.key}?protocol=7`);
  await bare.frame('pusher:connection_established');
  bare.send({ event: 'pusher:subscribe', data: { channel: 'private-room', auth: `${MAIN.key}:${'0'.repeat(64)}` } });
  const error = await bare.frame('pusher:subscription_error');
  assert.equal(error.channel, 'private-room');
  assert.equal(error.data.status, 401);
  bare.send({ event: 'pusher:subscribe', data: { channel: 'open' } });
  assert.equal((await bare.frame('pusher_internal:subscription_succeeded')).channel, 'open');
  bare.socket.close();

  // pusher-js itself: a signature of another app's secret is refused on that channel.
  const wrong = new PusherJs(MAIN.key, { ...options(SHOP), wsPort: herald.port });
  clients.push(wrong);
  await within(new Promise((ok) => wrong.connection.bind('connected', ok)), 'connected');
  const refused = await next(wrong.subscribe('private-room'), 'pusher:subscription_error');
  assert.equal(refused.data.status, 401);
});

test('presence: member lists, one user on two connections counted once, added and removed', async () => {
  const alice = { user_id: 'alice', user_info: { name: 'Alice' } };
  const bob = { user_id: 'bob', user_info: { name: 'Bob' } };
  const a1 = await connect(MAIN, { presence: alice });
  const channelA = a1.subscribe('presence-lobby');
  const membersA = (await next(channelA, 'pusher:subscription_succeeded')).data;
  assert.equal(membersA.count, 1);
  assert.deepEqual(membersA.me, { id: 'alice', info: { name: 'Alice' } });

  const a2 = await connect(MAIN, { presence: alice });
  await subscribed(a2, 'presence-lobby');

  const added = next(channelA, 'pusher:member_added');
  const b = await connect(MAIN, { presence: bob });
  const channelB = b.subscribe('presence-lobby');
  const membersB = (await next(channelB, 'pusher:subscription_succeeded')).data;
  assert.equal(membersB.count, 2);
  assert.deepEqual(membersB.get('alice'), { id: 'alice', info: { name: 'Alice' } });
  assert.deepEqual((await added).data, { id: 'bob', info: { name: 'Bob' } });

  const info = await (await sdk(MAIN).get({ path: '/channels/presence-lobby', params: { info: 'user_count,subscription_count' } })).json();
  assert.deepEqual(info, { occupied: true, user_count: 2, subscription_count: 3 });

  // alice leaves one of her two connections: still present; then the other: removed.
  let removedEarly = false;
  channelB.bind('pusher:member_removed', () => { removedEarly = true; });
  a2.disconnect();
  const users = async () => (await (await sdk(MAIN).get({ path: '/channels/presence-lobby', params: { info: 'subscription_count' } })).json()).subscription_count;
  for (let i = 0; i < 100 && (await users()) !== 2; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(removedEarly, false);
  channelB.unbind('pusher:member_removed');
  const removed = next(channelB, 'pusher:member_removed');
  a1.disconnect();
  assert.deepEqual((await removed).data, { id: 'alice', info: { name: 'Alice' } });
});

test('client events reach the other subscribers, never the sender, and are refused on public channels', async () => {
  const one = await connect(MAIN);
  const two = await connect(MAIN);
  const mine = await subscribed(one, 'private-chat');
  const theirs = await subscribed(two, 'private-chat');
  let echoed = false;
  mine.bind('client-typing', () => { echoed = true; });
  const got = next(theirs, 'client-typing');
  assert.equal(mine.trigger('client-typing', { who: 'one' }), true);
  assert.deepEqual((await got).data, { who: 'one' });
  // A server event sent after the client event arrives after it: had the client event been echoed, it would be here by now.
  const marker = next(mine, 'marker');
  await sdk(MAIN).trigger('private-chat', 'marker', {});
  await marker;
  assert.equal(echoed, false);

  const bare = await raw(`/app/${MAIN.key}?protocol=7`);
  await bare.frame('pusher:connection_established');
  bare.send({ event: 'pusher:subscribe', data: { channel: 'public-chat' } });
  await bare.frame('pusher_internal:subscription_succeeded');
  bare.send({ event: 'client-x', channel: 'public-chat', data: {} });
  assert.match((await bare.frame('pusher:error')).data.message, /private- and presence-/);
  bare.send({ event: 'client-x', channel: 'private-chat', data: {} });
  assert.match((await bare.frame('pusher:error')).data.message, /subscribe/);
  bare.socket.close();
});

test('client events are refused when the app does not allow them', async () => {
  const bare = await raw(`/app/${SHOP.key}?protocol=7`);
  const socketId = JSON.parse((await bare.frame('pusher:connection_established')).data).socket_id;
  const { auth } = sdk(SHOP).authorizeChannel(socketId, 'private-x');
  bare.send({ event: 'pusher:subscribe', data: { channel: 'private-x', auth } });
  await bare.frame('pusher_internal:subscription_succeeded');
  bare.send({ event: 'client-x', channel: 'private-x', data: {} });
  assert.match((await bare.frame('pusher:error')).data.message, /client_events/);
  bare.socket.close();
});

test('cache channels replay the last event on subscribe, else pusher:cache_miss', async () => {
  await sdk(MAIN).trigger('cache-prices', 'price', { eur: 1 });
  await sdk(MAIN).trigger('cache-prices', 'price', { eur: 2 });
  const client = await connect(MAIN);
  const prices = client.subscribe('cache-prices');
  const replayed = next(prices, 'price');
  await next(prices, 'pusher:subscription_succeeded');
  assert.deepEqual((await replayed).data, { eur: 2 });

  const empty = client.subscribe('cache-empty');
  await next(empty, 'pusher:cache_miss');
});

test('sign-in: user events reach every connection of the user; terminate closes them with 4009 and pusher-js stays off', async () => {
  const user = { id: 'carol', user_info: { name: 'Carol' } };
  const client = await connect(MAIN, { user });
  client.signin();
  await within(client.user.signinDonePromise, 'signin');
  // pusher-js subscribes to #server-to-user-carol after signin_success; wait until the server has it.
  await within(new Promise((ok) => {
    const check = () => (client.user.serverToUserChannel?.subscribed ? ok() : setTimeout(check, 20));
    check();
  }), 'server-to-user subscription');
  const got = next(client.user, 'note');
  await sdk(MAIN).sendToUser('carol', 'note', { text: 'hi' });
  assert.deepEqual((await got).data, { text: 'hi' });

  const bare = await raw(`/app/${MAIN.key}?protocol=7`);
  await bare.frame('pusher:connection_established');
  bare.send({ event: 'pusher:subscribe', data: { channel: '#server-to-user-carol' } });
  assert.equal((await bare.frame('pusher:subscription_error')).data.status, 403);
  bare.socket.close();

  const states = [];
  client.connection.bind('state_change', ({ current }) => states.push(current));
  const errored = within(new Promise((ok) => client.connection.bind('error', ok)), 'error');
  await sdk(MAIN).terminateUserConnections('carol');
  const error = await errored;
  assert.equal(error.data?.code ?? error.error?.data?.code, 4009);
  await within(new Promise((ok) => {
    const check = () => (client.connection.state !== 'connected' ? ok() : setTimeout(check, 20));
    check();
  }), 'disconnect');
  // 4009 is in Pusher's 4000-4099 range: pusher-js does not reconnect on its own.
  await new Promise((r) => setTimeout(r, 1500));
  assert.ok(!states.includes('connecting') || states.indexOf('connecting') < states.indexOf('disconnected'), JSON.stringify(states));
  assert.notEqual(client.connection.state, 'connected');
});

test('a bad sign-in signature closes the connection with 4009', async () => {
  const bare = await raw(`/app/${MAIN.key}?protocol=7`);
  await bare.frame('pusher:connection_established');
  bare.send({ event: 'pusher:signin', data: { auth: `${MAIN.key}:${'0'.repeat(64)}`, user_data: '{"id":"mallory"}' } });
  assert.equal((await bare.frame('pusher:error')).data.code, 4009);
  assert.equal(await bare.closed(), 4009);
});

test('apps are isolated: the same channel name in another app hears nothing', async () => {
  const shop = await connect(SHOP);
  const main = await connect(MAIN);
  const shopOrders = await subscribed(shop, 'isolated');
  const mainOrders = await subscribed(main, 'isolated');
  const heardByShop = [];
  shopOrders.bind('e', (data) => heardByShop.push(data));
  const got = next(mainOrders, 'e');
  await sdk(MAIN).trigger('isolated', 'e', 'main only');
  assert.equal((await got).data, 'main only');
  const shopGot = next(shopOrders, 'e');
  await sdk(SHOP).trigger('isolated', 'e', 'shop only');
  await shopGot;
  assert.deepEqual(heardByShop, ['shop only']);
});

test('Laravel Echo: public and private channels with the pusher broadcaster', async () => {
  const server = sdk(MAIN);
  const echo = new Echo({
    broadcaster: 'pusher',
    key: MAIN.key,
    cluster: 'mt1',
    wsHost: '127.0.0.1',
    wsPort: herald.port,
    forceTLS: false,
    enabledTransports: ['ws'],
    disableStats: true,
    Pusher: PusherJs,
    authorizer: (channel) => ({
      authorize: (socketId, callback) => callback(null, server.authorizeChannel(socketId, channel.name)),
    }),
  });
  clients.push(echo.connector.pusher);
  const shipped = within(new Promise((ok) => echo.channel('orders').listen('.OrderShipped', ok)), 'Echo public event');
  const privateEvent = within(new Promise((ok) => echo.private('orders.7').listen('.StatusChanged', ok)), 'Echo private event');
  await within(new Promise((ok) => {
    const check = () => (echo.connector.pusher.channel('private-orders.7')?.subscribed && echo.connector.pusher.channel('orders')?.subscribed ? ok() : setTimeout(check, 20));
    check();
  }), 'Echo subscriptions');
  await server.trigger('orders', 'OrderShipped', { id: 7 });
  await server.trigger('private-orders.7', 'StatusChanged', { status: 'paid' });
  assert.deepEqual(await shipped, { id: 7 });
  assert.deepEqual(await privateEvent, { status: 'paid' });
  echo.disconnect();
});
