import { Emitter } from './emitter';
import type { HeraldError, PresenceEvent, PresencePage, PresenceStats, Publication, StreamPosition, SubscribeResult } from './protocol';

/** Where a subscription is. */
export type SubscriptionState = 'unsubscribed' | 'subscribing' | 'subscribed';

/** Told each time the server confirms the subscription (first subscribe and after every reconnect). */
export interface SubscribedEvent {
  channel: string;
  /** The channel's position now; absent for channels without history. */
  position?: StreamPosition;
  /**
   * `true`: every publication missed since the last position was delivered (as `publication` events, before this
   * one). `false`: the gap could not be closed (history removed, trimmed, or the server restarted): reload the
   * channel's state from your backend. Absent when nothing was asked to recover (first subscribe without `since`).
   */
  recovered?: boolean;
}

/** Options of `subscribe`. */
export interface SubscribeOptions {
  /** A subscription token, for channels of a private namespace. */
  token?: string;
  /** Called for a fresh subscription token at every (re)subscribe; wins over `token`. */
  getToken?: (channel: string) => Promise<string>;
  /** Recover from this position (e.g. kept in localStorage); `{offset:0,epoch:""}` asks for all the channel keeps. */
  since?: StreamPosition;
}

/** Events of one subscription. */
export interface SubscriptionEvents {
  state: SubscriptionState;
  publication: Publication;
  subscribed: SubscribedEvent;
  unsubscribed: { channel: string };
  join: PresenceEvent;
  leave: PresenceEvent;
  error: HeraldError;
}

/** @internal What a subscription needs from its client. */
export interface SubscriptionHost {
  call<T>(method: string, params?: object): Promise<T>;
  isConnected(): boolean;
  forget(sub: Subscription): void;
}

/**
 * One channel the client is subscribed to. It tracks the channel's offset and epoch, resubscribes with `since`
 * after every reconnect, and delivers the missed publications in order, without duplicates.
 */
export class Subscription extends Emitter<SubscriptionEvents> {
  private _state: SubscriptionState = 'unsubscribed';
  private _position?: StreamPosition;
  private generation = 0;
  private resyncing = false;

  /** @internal */
  constructor(
    private readonly host: SubscriptionHost,
    readonly channel: string,
    private readonly options: SubscribeOptions,
    /** @internal subscribed by the token's `channels` claim (renewed by each connect), not by a `subscribe` command */
    public fromServer = false,
  ) {
    super();
    this._position = options.since && { offset: options.since.offset, epoch: options.since.epoch };
  }

  /** `subscribing` while (re)subscribing, e.g. during a reconnect. */
  get state(): SubscriptionState {
    return this._state;
  }

  /** The last publication handled (offset) and the channel's epoch; undefined for channels without history. */
  get position(): StreamPosition | undefined {
    return this._position && _clone(this._position);
  }

  /** Leaves the channel. */
  async unsubscribe(): Promise<void> {
    const wasActive = this._state !== 'unsubscribed';
    this.host.forget(this);
    this.setState('unsubscribed');
    this.generation++;
    if (wasActive && this.host.isConnected()) {
      try {
        await this.host.call('unsubscribe', { channel: this.channel });
      } catch (error) {
        // Code 0: the connection closed first, and a closed connection has no subscriptions left: nothing to undo.
        if ((error as HeraldError).code !== 0) throw error;
      }
    }
    if (wasActive) this.emit('unsubscribed', { channel: this.channel });
  }

  /** Members of the channel (the client must be subscribed). */
  presence(options: { limit?: number; cursor?: string } = {}): Promise<PresencePage> {
    return this.host.call('presence', { channel: this.channel, ...options });
  }

  /** Counts of the channel's members. */
  presenceStats(): Promise<PresenceStats> {
    return this.host.call('presence_stats', { channel: this.channel });
  }

  /** Publishes to the channel from the client (needs `client_publish` on the server). */
  publish(data: unknown): Promise<{ recipients: number }> {
    return this.host.call('publish', { channel: this.channel, data });
  }

  /** @internal the `since` to send, when a position is known */
  sinceParam(): StreamPosition | undefined {
    return this._position && _clone(this._position);
  }

  /** @internal sends `subscribe` on the current connection */
  async resubscribe(): Promise<void> {
    const generation = ++this.generation;
    this.setState('subscribing');
    const params: Record<string, unknown> = { channel: this.channel };
    try {
      const token = this.options.getToken ? await this.options.getToken(this.channel) : this.options.token;
      if (token) params.token = token;
      const since = this.sinceParam();
      if (since) params.since = since;
      const result = await this.host.call<SubscribeResult>('subscribe', params);
      if (generation === this.generation) this.handleSubscribed(result, !!since);
    } catch (error) {
      if (generation === this.generation && this.host.isConnected()) {
        this.setState('unsubscribed');
        this.emit('error', error as HeraldError);
      }
    }
  }

  /** @internal the connection ended: the subscription waits for the next one */
  suspend(): void {
    this.generation++;
    this.resyncing = false;
    if (this._state === 'subscribed') this.setState('subscribing');
  }

  /** @internal the server's answer to subscribe (or connect's `subs` entry) */
  handleSubscribed(result: SubscribeResult, askedSince: boolean): void {
    this.resyncing = false;
    const hasHistory = typeof result.offset === 'number';
    const last = this._position;
    let recovered: boolean | undefined = askedSince && hasHistory ? result.recovered === true : undefined;
    if (recovered) {
      for (const p of result.publications || []) {
        if (last && p.offset <= last.offset) continue;
        this.deliver({ channel: this.channel, offset: p.offset, data: p.data });
      }
    }
    this._position = hasHistory ? { offset: result.offset as number, epoch: result.epoch || '' } : undefined;
    this.setState('subscribed');
    this.emit('subscribed', { channel: this.channel, position: this.position, recovered });
  }

  /** @internal a live publication of this channel */
  handlePublication(pub: Publication): void {
    if (this.resyncing) return;
    if (typeof pub.offset === 'number' && this._position) {
      if (pub.offset <= this._position.offset) {
        // Offsets started again: the backend removed the history and a new epoch began.
        this.resync();
        return;
      }
      this._position.offset = pub.offset;
    }
    this.deliver(pub);
  }

  /** @internal a join or leave push of this channel */
  handlePresence(kind: 'join' | 'leave', event: PresenceEvent): void {
    this.emit(kind, event);
  }

  private resync(): void {
    this.resyncing = true;
    const generation = ++this.generation;
    this.host
      .call<SubscribeResult>('subscribe', { channel: this.channel, ...(this.options.token ? { token: this.options.token } : {}) })
      .then((result) => {
        if (generation !== this.generation) return;
        this.resyncing = false;
        this._position = typeof result.offset === 'number' ? { offset: result.offset, epoch: result.epoch || '' } : undefined;
        this.emit('subscribed', { channel: this.channel, position: this.position, recovered: false });
      })
      .catch((error) => generation === this.generation && this.emit('error', error));
  }

  private deliver(pub: Publication): void {
    this.emit('publication', pub);
  }

  private setState(state: SubscriptionState): void {
    if (this._state === state) return;
    this._state = state;
    this.emit('state', state);
  }
}

function _clone(p: StreamPosition): StreamPosition {
  return { offset: p.offset, epoch: p.epoch };
}
