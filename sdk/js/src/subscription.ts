import { Emitter } from './emitter';
import {
  HeraldError,
  type PresenceEvent,
  type PresencePage,
  type PresenceStats,
  type Publication,
  type StreamPosition,
  type SubscribeResult,
} from './protocol';

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

/** Events of one subscription; `T` is the type of the publications' `data`. */
export interface SubscriptionEvents<T = unknown> {
  state: SubscriptionState;
  publication: Publication<T>;
  subscribed: SubscribedEvent;
  unsubscribed: { channel: string };
  join: PresenceEvent;
  leave: PresenceEvent;
  error: HeraldError;
}

/** @internal What a subscription needs from its client. */
export interface SubscriptionHost {
  call<T>(method: string, params?: object): Promise<T>;
  /**
   * Sends a command on the current connection; `done` runs synchronously while its reply frame is handled, before
   * any later frame, so that a reply and the pushes after it are applied in the order the server sent them.
   */
  request(method: string, params: object, done: (error: HeraldError | undefined, result?: any) => void): void;
  isConnected(): boolean;
  forget(sub: Subscription<any>): void;
  log(message: string): void;
}

/** Why a subscribe is sent: the first one or a reconnect, a hole in the live offsets, or a new epoch while connected. */
type Reason = 'subscribe' | 'gap' | 'reset';

/**
 * One channel the client is subscribed to. It tracks the channel's offset and epoch, resubscribes with `since`
 * after every reconnect, and delivers the missed publications in order, without duplicates.
 *
 * The ordering guarantee rests on two rules. A subscribe reply is applied in the same turn as its frame arrives, so
 * nothing the server sent after it can be handled before it. And while a reply is awaited, live publications of the
 * channel wait in a buffer; once the reply's recovered publications are delivered, the buffer is replayed, skipping
 * offsets the reply already covered. A live offset that skips ahead makes the subscription recover the hole; one that
 * goes back means a new epoch began, which is reported as `recovered: false`.
 */
export class Subscription<T = unknown> extends Emitter<SubscriptionEvents<T>> {
  private _state: SubscriptionState = 'unsubscribed';
  private _position?: StreamPosition;
  private generation = 0;
  /** Live publications that arrived while a subscribe reply was awaited. */
  private held: Publication<T>[] = [];

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
    this.held = [];
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
  publish(data: T): Promise<{ recipients: number }> {
    return this.host.call('publish', { channel: this.channel, data });
  }

  /** @internal the `since` to send, when a position is known */
  sinceParam(): StreamPosition | undefined {
    return this._position && _clone(this._position);
  }

  /** @internal sends `subscribe` on the current connection */
  resubscribe(): Promise<void> {
    return this.send('subscribe');
  }

  /** @internal the connection ended: the subscription waits for the next one */
  suspend(): void {
    this.generation++;
    this.held = [];
    if (this._state === 'subscribed') this.setState('subscribing');
  }

  /** @internal the server's answer to subscribe (or connect's `subs` entry) */
  handleSubscribed(result: SubscribeResult, askedSince: boolean, reason: Reason = 'subscribe'): void {
    const hasHistory = typeof result.offset === 'number';
    const last = this._position;
    let recovered: boolean | undefined = askedSince && hasHistory ? result.recovered === true : undefined;
    let delivered = 0;
    if (recovered && last) {
      // The server promises every publication after `since`; a hole would be silent loss, so it is reported.
      // `since` with an empty epoch asks for whatever is kept, which may start anywhere.
      const fromAnywhere = last.epoch === '';
      let expected = last.offset + 1;
      for (const p of result.publications || []) {
        if (p.offset < expected) continue;
        if (p.offset > expected && !(fromAnywhere && delivered === 0)) recovered = false;
        const pub: Publication<T> = { channel: this.channel, offset: p.offset, data: p.data as T };
        if (p.event !== undefined) pub.event = p.event;
        this.deliver(pub);
        delivered++;
        expected = p.offset + 1;
      }
      if (expected <= (result.offset as number) && !(fromAnywhere && delivered === 0)) recovered = false;
    }
    if (reason === 'reset') recovered = false;
    this._position = hasHistory ? { offset: result.offset as number, epoch: result.epoch || '' } : undefined;
    this.host.log(
      `${this.channel}: subscribed` +
        (this._position ? ` at offset ${this._position.offset} (epoch ${this._position.epoch})` : ' (no history)') +
        (recovered !== undefined ? `, recovered: ${recovered}, ${delivered} publication(s) delivered` : ''),
    );
    this.setState('subscribed');
    if (reason !== 'gap' || recovered === false) {
      this.emit('subscribed', { channel: this.channel, position: this.position, recovered });
    }
    this.replayHeld();
  }

  /** @internal a live publication of this channel */
  handlePublication(pub: Publication<T>): void {
    if (this._state !== 'subscribed') {
      this.held.push(pub);
      return;
    }
    const position = this._position;
    if (typeof pub.offset === 'number' && position) {
      if (pub.offset <= position.offset) {
        // Offsets started again: the backend removed the history and a new epoch began.
        this.host.log(`${this.channel}: offset ${pub.offset} after ${position.offset}: a new epoch began, subscribing again`);
        this.held.push(pub);
        void this.send('reset');
        return;
      }
      if (pub.offset > position.offset + 1) {
        // The server delivers a channel's offsets without holes; if one shows anyway, fetch it from history.
        this.host.log(`${this.channel}: offset ${pub.offset} after ${position.offset}: recovering the gap`);
        this.held.push(pub);
        void this.send('gap');
        return;
      }
      position.offset = pub.offset;
    }
    this.deliver(pub);
  }

  /** @internal a join or leave push of this channel */
  handlePresence(kind: 'join' | 'leave', event: PresenceEvent): void {
    this.emit(kind, event);
  }

  private async send(reason: Reason): Promise<void> {
    const generation = ++this.generation;
    this.setState('subscribing');
    const params: Record<string, unknown> = { channel: this.channel };
    let token: string | undefined;
    try {
      token = this.options.getToken ? await this.options.getToken(this.channel) : this.options.token;
    } catch (error) {
      return this.failed(generation, new HeraldError(0, `getToken for ${this.channel} failed: ${(error as Error)?.message || error}`));
    }
    // A reconnect (or unsubscribe) while the token was fetched started another attempt: this one is stale.
    if (generation !== this.generation || !this.host.isConnected()) return;
    if (token) params.token = token;
    const since = reason === 'reset' ? undefined : this.sinceParam();
    if (since) params.since = since;
    this.host.request('subscribe', params, (error, result) => {
      if (error) this.failed(generation, error);
      else if (generation === this.generation) this.handleSubscribed(result as SubscribeResult, !!since, reason);
    });
  }

  private failed(generation: number, error: HeraldError): void {
    if (generation !== this.generation || !this.host.isConnected()) return;
    this.held = [];
    this.setState('unsubscribed');
    this.emit('error', error);
  }

  /** Hands on the publications held back while the reply was awaited, skipping those the reply covered. */
  private replayHeld(): void {
    const held = this.held;
    this.held = [];
    for (let i = 0; i < held.length; i++) {
      const pub = held[i];
      if (this._state !== 'subscribed') {
        // A gap or reset started another subscribe: the rest waits for its reply.
        this.held.push(...held.slice(i));
        return;
      }
      if (typeof pub.offset === 'number' && this._position && pub.offset <= this._position.offset) continue;
      this.handlePublication(pub);
    }
  }

  private deliver(pub: Publication<T>): void {
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
