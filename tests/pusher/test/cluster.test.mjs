// Two Herald nodes on one real redis-server: pusher-js clients on different nodes share presence, events and client
// events, and terminate_connections asked of one node closes a signed-in connection on the other.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Pusher from 'pusher';
import PusherJs from 'pusher-js';
import { startHerald, startRedis } from './herald.mjs';

const MAIN = { appId: 'main', key: 'main-key', secret: 'main-secret' };
const WAIT = 10000;

let redis;
let nodes = [];
const clients = [];

before(async () => {
  redis = await startRedis();
  const engine = ['--engine', 'redis', '--redis', `127.0.0.1:${redis.port}`, '--redis-prefix', `pusher${Date.now()}`];
  const apps = [{ id: MAIN.appId, key: MAIN.key, secret: MAIN.secret, client_events: true }];
  nodes = [await startHerald({ apps, engine }), await startHerald({ apps, engine })];
});
after(async () => {
  clients.forEach((c) => c.disconnect());
  try {
    await Promise.all(nodes.map((n) => n.stop()));
  } finally {
    await redis?.stop();
  }
});

const sdk = (node) => new Pusher({ ...MAIN, host: '127.0.0.1', port: node.port, useTLS: false });

function within(promise, what) {
  let timer;
  return Promise.race([promise, new Promise((_, fail) => { timer = setTimeout(() => fail(new Error(`${what}: nothing within ${WAIT} ms`)), WAIT); })])
    .finally(() => clearTimeout(timer));
}

async function connect(node, { presence, user } = {}) {
  const server = sdk(node);
  const client = new PusherJs(MAIN.key, {
    cluster: 'mt1',
    wsHost: '127.0.0.1',
    wsPort: node.port,
    forceTLS: false,
    enabledTransports: ['ws'],
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, callback) =>
        callback(null, server.authorizeChannel(socketId, channelName, channelName.startsWith('presence-') ? presence : undefined)),
    },
    userAuthentication: { customHandler: ({ socketId }, callback) => callback(null, server.authenticateUser(socketId, user)) },
  });
  clients.push(client);
  await within(new Promise((ok) => client.connection.bind('connected', ok)), 'connected');
  return client;
}

function next(channel, name) {
  return within(new Promise((ok) => {
    const handler = (data, metadata) => { channel.unbind(name, handler); ok({ data, metadata }); };
    channel.bind(name, handler);
  }), `event ${name}`);
}

const until = (check, what) => within(new Promise((ok) => {
  const poll = async () => ((await check()) ? ok() : setTimeout(poll, 50));
  poll();
}), what);

test('presence is shared across nodes: the member list, member_added and member_removed', async () => {
  const [one, two] = nodes;
  const alice = await connect(one, { presence: { user_id: 'alice', user_info: { node: 1 } } });
  const aliceRoom = alice.subscribe('presence-cluster');
  await next(aliceRoom, 'pusher:subscription_succeeded');

  const added = next(aliceRoom, 'pusher:member_added');
  const bob = await connect(two, { presence: { user_id: 'bob', user_info: { node: 2 } } });
  const bobRoom = bob.subscribe('presence-cluster');
  const members = (await next(bobRoom, 'pusher:subscription_succeeded')).data;
  assert.equal(members.count, 2);
  assert.deepEqual(members.get('alice'), { id: 'alice', info: { node: 1 } });
  assert.deepEqual((await added).data, { id: 'bob', info: { node: 2 } });

  const counts = await (await sdk(one).get({ path: '/channels/presence-cluster', params: { info: 'user_count,subscription_count' } })).json();
  assert.deepEqual(counts, { occupied: true, user_count: 2, subscription_count: 2 });

  const removed = next(aliceRoom, 'pusher:member_removed');
  bob.disconnect();
  assert.equal((await removed).data.id, 'bob');
});

test('events and client events cross nodes; the sender of a client event does not get it back', async () => {
  const [one, two] = nodes;
  const a = await connect(one);
  const b = await connect(two);
  const aChat = a.subscribe('private-cluster-chat');
  const bChat = b.subscribe('private-cluster-chat');
  await Promise.all([next(aChat, 'pusher:subscription_succeeded'), next(bChat, 'pusher:subscription_succeeded')]);
  // Node two knows of node one's subscriber once the channel counts both.
  await until(async () => (await (await sdk(two).get({ path: '/channels/private-cluster-chat', params: { info: 'subscription_count' } })).json()).subscription_count === 2, 'both subscriptions');

  const fromServer = next(bChat, 'news');
  await sdk(one).trigger('private-cluster-chat', 'news', { from: 'node one' });
  assert.deepEqual((await fromServer).data, { from: 'node one' });

  let echoed = false;
  aChat.bind('client-hello', () => { echoed = true; });
  const fromClient = next(bChat, 'client-hello');
  aChat.trigger('client-hello', { from: 'a' });
  assert.deepEqual((await fromClient).data, { from: 'a' });
  const marker = next(aChat, 'marker');
  await sdk(two).trigger('private-cluster-chat', 'marker', {});
  await marker;
  assert.equal(echoed, false);
});

test('terminate_connections asked of one node closes the user on the other with 4009', async () => {
  const [one, two] = nodes;
  const client = await connect(two, { user: { id: 'dave' } });
  client.signin();
  await within(client.user.signinDonePromise, 'signin');
  const errored = within(new Promise((ok) => client.connection.bind('error', ok)), 'error');
  await sdk(one).terminateUserConnections('dave');
  const error = await errored;
  assert.equal(error.data?.code ?? error.error?.data?.code, 4009);
});
