// The npm `pusher` server SDK, unchanged, against Herald's Pusher HTTP API; native herald.v1 clients receive.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Pusher from 'pusher';
import { APPS, nativeSubscriber, startHerald } from './herald.mjs';

let herald;
const clients = [];
const sdk = (app) => new Pusher({ ...app, host: '127.0.0.1', port: herald.port, useTLS: false });
const subscriber = async (user, channels) => { const c = await nativeSubscriber(herald.port, user, channels); clients.push(c); return c; };

before(async () => { herald = await startHerald(); });
after(async () => { clients.forEach((c) => c.close()); await herald.stop(); });

test('trigger reaches native subscribers of the default app with the data as a string', async () => {
  const orders = await subscriber(null, ['orders']);
  const response = await sdk(APPS.main).trigger('orders', 'order-created', { id: 7, note: 'ünïcode' });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {});
  const push = await orders.next();
  assert.equal(push.channel, 'orders');
  assert.deepEqual(JSON.parse(push.data), { id: 7, note: 'ünïcode' });
});

test('trigger to several channels with info answers the counts', async () => {
  await subscriber('alice', ['presence-room', 'news']);
  await subscriber('alice', ['presence-room']);
  const response = await sdk(APPS.main).trigger(['presence-room', 'news'], 'e', 'x', { info: 'user_count,subscription_count' });
  assert.deepEqual(await response.json(), {
    channels: { 'presence-room': { user_count: 1, subscription_count: 2 }, news: { subscription_count: 1 } },
  });
});

test("an app's events stay in that app", async () => {
  const native = await subscriber(null, ['isolated']);
  await sdk(APPS.shop).trigger('isolated', 'e', 'from shop');
  await sdk(APPS.main).trigger('isolated', 'e', 'from main');
  assert.equal((await native.next()).data, 'from main');
});

test('triggerBatch delivers in order and refuses a batch over the app limit', async () => {
  const native = await subscriber(null, ['batched']);
  const response = await sdk(APPS.main).triggerBatch([1, 2, 3].map((n) => ({ channel: 'batched', name: 'e', data: String(n) })));
  assert.equal(response.status, 200);
  assert.deepEqual([(await native.next()).data, (await native.next()).data, (await native.next()).data], ['1', '2', '3']);
  await assert.rejects(
    sdk(APPS.main).triggerBatch([1, 2, 3, 4, 5].map((n) => ({ channel: 'batched', name: 'e', data: String(n) }))),
    (error) => error.status === 400 && /Batch too large/.test(error.body),
  );
});

test('an event over 10 KiB is refused with 413', async () => {
  await assert.rejects(sdk(APPS.main).trigger('orders', 'big', 'x'.repeat(10 * 1024 + 1)), (error) => error.status === 413);
});

test('get channels and channel info, with prefix and counts', async () => {
  await subscriber('carol', ['presence-lobby', 'shop-news']);
  await subscriber('dave', ['presence-lobby']);
  const api = sdk(APPS.main);
  const lobby = await (await api.get({ path: '/channels/presence-lobby', params: { info: 'user_count,subscription_count' } })).json();
  assert.deepEqual(lobby, { occupied: true, user_count: 2, subscription_count: 2 });
  const presence = await (await api.get({ path: '/channels', params: { filter_by_prefix: 'presence-', info: 'user_count' } })).json();
  assert.equal(presence.channels['presence-lobby'].user_count, 2);
  assert.ok(!('shop-news' in presence.channels));
  const users = await (await api.get({ path: '/channels/presence-lobby/users' })).json();
  assert.deepEqual(users, { users: [{ id: 'carol' }, { id: 'dave' }] });
  const empty = await (await api.get({ path: '/channels/nobody-here' })).json();
  assert.deepEqual(empty, { occupied: false });
  const shopView = await (await sdk(APPS.shop).get({ path: '/channels' })).json();
  assert.deepEqual(shopView, { channels: {} });
});

test('terminateUserConnections closes the user everywhere with 4009', async () => {
  const erin = await subscriber('erin', ['news']);
  const frank = await subscriber('frank', ['news']);
  const response = await sdk(APPS.main).terminateUserConnections('erin');
  assert.equal(response.status, 200);
  assert.equal(await erin.closeCode(), 4009);
  assert.ok(frank.open);
});

test('a wrong secret is refused with 401 and Pusher\'s message', async () => {
  await assert.rejects(
    sdk({ ...APPS.main, secret: 'not-the-secret' }).trigger('orders', 'e', 'x'),
    (error) => error.status === 401 && /Invalid signature: you should have sent HmacSHA256Hex/.test(error.body),
  );
});
