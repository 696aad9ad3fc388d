import type { InboxEntry, InboxState } from './protocol';

/** At most this many unacknowledged entries are remembered (ten times the server's default inbox_size). */
const REMEMBERED_LIMIT = 10000;

/**
 * Decides which inbox entries reach the app, so that each reaches it once per client object. The server hands every
 * unacknowledged entry again in the next connect reply; an entry already handed out (same user, same offset, same
 * data) is then skipped, because only its acknowledgement had not arrived. An inbox whose newest offset is behind
 * what was seen was lost by the server (a restart of a --memory server) and starts over.
 */
export class InboxDelivery {
  /** Entries handed out and not known to be acknowledged: offset to data as JSON. */
  private seen = new Map<number, string>();
  private user?: string;

  /** The entries of a connect reply to hand out, oldest first. */
  fromConnect(user: string | undefined, inbox: InboxState): InboxEntry[] {
    let newest = 0;
    for (const offset of this.seen.keys()) newest = Math.max(newest, offset);
    const before = user === this.user && inbox.offset >= newest ? this.seen : new Map<number, string>();
    this.user = user;
    // What the reply does not hold will never come again: only its entries are remembered.
    this.seen = new Map();
    const fresh: InboxEntry[] = [];
    for (const entry of inbox.publications || []) {
      const json = JSON.stringify(entry.data);
      this.seen.set(entry.offset, json);
      if (before.get(entry.offset) !== json) {
        fresh.push(entry.event === undefined ? { offset: entry.offset, data: entry.data } : { offset: entry.offset, event: entry.event, data: entry.data });
      }
    }
    return fresh;
  }

  /** Whether a live entry is to be handed out. */
  live(entry: InboxEntry): boolean {
    const json = JSON.stringify(entry.data);
    if (this.seen.get(entry.offset) === json) return false;
    this.seen.set(entry.offset, json);
    // An app that never acknowledges must not make this grow forever: the oldest are forgotten first.
    if (this.seen.size > REMEMBERED_LIMIT) this.seen.delete(this.seen.keys().next().value as number);
    return true;
  }

  /** The user acknowledged up to `offset`: those entries cannot come again. */
  acked(offset: number): void {
    for (const seen of this.seen.keys()) if (seen <= offset) this.seen.delete(seen);
  }
}
