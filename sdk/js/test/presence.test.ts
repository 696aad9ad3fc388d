import { afterEach, describe, expect, it } from 'vitest';
import type { PresenceEvent } from '../src';
import { client, closeClients, connected, mintToken, unique, until } from './helpers';

afterEach(closeClients);

describe('presence', () => {
  it('lists members, counts them, and pushes join and leave', async () => {
    const channel = `room:${unique('r')}`;
    const ann = client({ token: mintToken({ sub: unique('ann'), info: { name: 'Ann' } }) });
    const bob = client({ token: mintToken({ sub: unique('bob'), info: { name: 'Bob' } }) });
    const annSub = ann.subscribe(channel);
    const joins: PresenceEvent[] = [];
    const leaves: PresenceEvent[] = [];
    annSub.on('join', (e) => joins.push(e));
    annSub.on('leave', (e) => leaves.push(e));
    ann.connect();
    await until(() => annSub.state === 'subscribed');

    const bobSub = bob.subscribe(channel);
    bob.connect();
    await until(() => bobSub.state === 'subscribed');
    await until(() => joins.length === 1, 5000, 'join');
    expect(joins[0]).toMatchObject({ channel, client: bob.info!.client, info: { name: 'Bob' } });

    await expect(ann.presenceStats(channel)).resolves.toEqual({ connections: 2, users: 2 });
    const page = await annSub.presence();
    expect(page.members.map((m) => m.info).sort((a: any, b: any) => a.name.localeCompare(b.name))).toEqual([
      { name: 'Ann' },
      { name: 'Bob' },
    ]);
    const first = await ann.presence(channel, { limit: 1 });
    expect(first.members).toHaveLength(1);
    expect(first.cursor).toBeDefined();

    await bobSub.unsubscribe();
    await until(() => leaves.length === 1, 5000, 'leave');
    expect(leaves[0].client).toBe(bob.info!.client);
    await expect(annSub.presenceStats()).resolves.toEqual({ connections: 1, users: 1 });
  });

  it('connects anonymously and sees itself in presence_stats', async () => {
    const c = client();
    const channel = unique('lobby');
    const sub = c.subscribe(channel);
    c.connect();
    await connected(c);
    await until(() => sub.state === 'subscribed');
    await expect(c.presenceStats(channel)).resolves.toEqual({ connections: 1, users: 0 });
  });
});
