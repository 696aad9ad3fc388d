import { Emitter } from './emitter';
import {
  ClientCloseCodes,
  HeraldError,
  PROTOCOL,
  shouldReconnect,
  type ConnectResult,
  type DisconnectEvent,
  type InboxEntry,
  type PresenceEvent,
  type PresencePage,
  type PresenceStats,
  type Publication,
  type StreamPosition,
} from './protocol';
import { Subscription, type SubscribeOptions, type SubscriptionHost } from './subscription';
import { webSocketTransport, type Transport, type TransportConnection } from './transport';

/** The connection's state. */
export type ConnectionState = 'disconnected' | 'connecting' | 'connected';

/** Options of `new Herald(url, options)`. */
export interface HeraldOptions {
  /** The connection token (JWT) from your backend. */
  token?: string;
  /** Fetches a fresh connection token: at connect when there is none, before `expires_in` runs out, and after 4005. */
  getToken?: () => Promise<string>;
  /** The connection's attributes (flat object of strings, numbers, booleans). */
  attrs?: Record<string, string | number | boolean>;
  /** How to open sockets; default: the global WebSocket. See `wxTransport`, `uniTransport`, `webSocketTransport`. */
  transport?: Transport;
  /** First reconnect delay in ms (default 500). */
  minReconnectDelay?: number;
  /** Largest reconnect delay in ms (default 20000). */
  maxReconnectDelay?: number;
  /** How long a command waits for its reply, in ms (default 10000). */
  timeout?: number;
}

/** Events of the client. */
export interface HeraldEvents {
  state: ConnectionState;
  /** The server accepted `connect`. */
  connect: ConnectResult;
  /** The connection ended; `reconnect` says whether the client comes back by itself. */
  disconnect: DisconnectEvent;
  /** A publication that belongs to no `Subscription`: `where` publishes, user publishes without inbox, server-side subscriptions. */
  publication: Publication;
  /** An entry of the user's inbox, from the connect reply or live. Acknowledge with `ackInbox(offset)`. */
  inbox: InboxEntry;
  join: PresenceEvent;
  leave: PresenceEvent;
  /** The backend subscribed (`subscribe`) or unsubscribed (`unsubscribe`) this connection to a channel. */
  subscribe: { channel: string };
  unsubscribe: { channel: string };
  error: HeraldError;
}

interface Pending {
  resolve(result: any): void;
  reject(error: HeraldError): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * A client of Herald's native protocol `herald.v1`: one WebSocket, reconnected with backoff, with channel
 * subscriptions that recover what they missed, the user's inbox, presence and token refresh.
 */
export class Herald extends Emitter<HeraldEvents> {
  private readonly transport: Transport;
  private readonly minDelay: number;
  private readonly maxDelay: number;
  private readonly timeout: number;
  private token?: string;
  private attrs?: Record<string, string | number | boolean>;
  private _state: ConnectionState = 'disconnected';
  private socket?: TransportConnection;
  /** The id of the current socket, 0 when there is none; callbacks of older sockets are ignored. */
  private live = 0;
  private sockets = 0;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private subs = new Map<string, Subscription>();
  private attempts = 0;
  private reconnectTimer?: ReturnType<typeof setTimeout>;
  private refreshTimer?: ReturnType<typeof setTimeout>;
  private aliveTimer?: ReturnType<typeof setTimeout>;
  private aliveMs = 0;
  private lastDisconnect?: DisconnectEvent;
  private readonly host: SubscriptionHost;

  /** The server's answer to the last `connect`. */
  info?: ConnectResult;

  constructor(
    readonly url: string,
    private readonly options: HeraldOptions = {},
  ) {
    super();
    this.transport = options.transport || webSocketTransport();
    this.minDelay = options.minReconnectDelay ?? 500;
    this.maxDelay = Math.max(this.minDelay, options.maxReconnectDelay ?? 20000);
    this.timeout = options.timeout ?? 10000;
    this.token = options.token;
    this.attrs = options.attrs;
    this.host = {
      call: (method, params) => this.call(method, params),
      isConnected: () => this._state === 'connected',
      forget: (sub) => this.subs.get(sub.channel) === sub && this.subs.delete(sub.channel),
    };
  }

  /** `connected` once the server accepted `connect`. */
  get state(): ConnectionState {
    return this._state;
  }

  /** Opens the connection (and keeps it open, reconnecting, until `disconnect()`). */
  connect(): void {
    if (this._state !== 'disconnected') return;
    this.attempts = 0;
    this.open();
  }

  /** Closes the connection for good; subscriptions stay registered for a later `connect()`. */
  disconnect(): void {
    clearTimeout(this.reconnectTimer);
    const socket = this.socket;
    if (this.live) {
      this.closed(1000, 'client disconnected', false);
      try {
        socket?.close(1000, 'client disconnected');
      } catch {
        /* already closed */
      }
    }
    this.setState('disconnected');
  }

  /**
   * Subscribes to a channel, now or as soon as the client is connected, and after every reconnect with `since`.
   * Subscribing to a channel twice returns the same Subscription.
   */
  subscribe(channel: string, options: SubscribeOptions = {}): Subscription {
    let sub = this.subs.get(channel);
    if (sub && !sub.fromServer) {
      // A subscription the server refused is tried again.
      if (sub.state === 'unsubscribed' && this._state === 'connected') void sub.resubscribe();
      return sub;
    }
    const since = sub && sub.sinceParam();
    sub = new Subscription(this.host, channel, since && !options.since ? { ...options, since } : options);
    this.subs.set(channel, sub);
    if (this._state === 'connected') void sub.resubscribe();
    return sub;
  }

  /** The subscription of a channel: yours, or one of the token's `channels`. */
  getSubscription(channel: string): Subscription | undefined {
    return this.subs.get(channel);
  }

  /** Publishes to a channel from the client (the server must allow it: `client_publish`). */
  publish(channel: string, data: unknown): Promise<{ recipients: number }> {
    return this.call('publish', { channel, data });
  }

  /** A page of a channel's members; the client must be subscribed to it. */
  presence(channel: string, options: { limit?: number; cursor?: string } = {}): Promise<PresencePage> {
    return this.call('presence', { channel, ...options });
  }

  /** Counts of a channel's members; the client must be subscribed to it. */
  presenceStats(channel: string): Promise<PresenceStats> {
    return this.call('presence_stats', { channel });
  }

  /** Acknowledges the user's inbox up to `offset`: those entries are not delivered again. */
  ackInbox(offset: number): Promise<{ acked: number }> {
    return this.call('inbox_ack', { offset });
  }

  /** Replaces the connection's attributes, now and for later reconnects. */
  async setAttrs(attrs: Record<string, string | number | boolean>): Promise<void> {
    this.attrs = attrs;
    if (this._state === 'connected') await this.call('attrs', { attrs });
  }

  /** Sends any command of the protocol and resolves with its result; rejects with a HeraldError. */
  call<T = any>(method: string, params?: object): Promise<T> {
    if (this._state !== 'connected') {
      return Promise.reject(new HeraldError(0, `not connected: cannot send ${method}`));
    }
    return this.send(method, params);
  }

  private send<T>(method: string, params?: object): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const socket = this.socket;
      if (!socket) return reject(new HeraldError(0, `not connected: cannot send ${method}`));
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new HeraldError(0, `no reply to ${method} within ${this.timeout} ms`));
      }, this.timeout);
      this.pending.set(id, { resolve, reject, timer });
      try {
        socket.send(JSON.stringify(params ? { id, method, params } : { id, method }));
      } catch (error) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new HeraldError(0, `could not send ${method}: ${error}`));
      }
    });
  }

  private open(): void {
    this.setState('connecting');
    this.lastDisconnect = undefined;
    const id = (this.live = ++this.sockets);
    const current = () => this.live === id;
    let socket: TransportConnection;
    try {
      // Platforms may call back before connectSocket returns: the callbacks go by id, not by the returned object.
      socket = this.transport(this.url, [PROTOCOL], {
        onOpen: (protocol) => {
          if (!current()) return;
          if (protocol !== undefined && protocol !== PROTOCOL) {
            return this.drop(ClientCloseCodes.NoSubprotocol, `the server did not accept the subprotocol ${PROTOCOL}: is this Herald?`);
          }
          void Promise.resolve().then(() => this.handshake(id));
        },
        onMessage: (text) => current() && this.receive(text),
        onClose: (code, reason) => current() && this.closed(code, reason, true),
        onError: (error) => {
          if (!current()) return;
          this.emit('error', new HeraldError(0, `transport error: ${(error as Error)?.message || error}`));
          this.drop(ClientCloseCodes.Lost, 'transport error');
        },
      });
    } catch (error) {
      this.live = 0;
      this.emit('error', new HeraldError(0, String((error as Error)?.message || error)));
      this.scheduleReconnect();
      return;
    }
    if (current()) this.socket = socket;
    else {
      try {
        socket.close(1000, 'closed before it opened');
      } catch {
        /* already closed */
      }
    }
  }

  private async handshake(id: number): Promise<void> {
    try {
      if (!this.token && this.options.getToken) this.token = await this.options.getToken();
    } catch (error) {
      if (this.live !== id) return;
      this.emit('error', new HeraldError(0, `getToken failed: ${(error as Error)?.message || error}`));
      return this.drop(ClientCloseCodes.Lost, 'getToken failed');
    }
    if (this.live !== id) return;
    const params: Record<string, unknown> = {};
    if (this.token) params.token = this.token;
    if (this.attrs) params.attrs = this.attrs;
    const since: Record<string, StreamPosition> = {};
    for (const sub of this.subs.values()) {
      const position = sub.fromServer && sub.sinceParam();
      if (position) since[sub.channel] = position;
    }
    if (Object.keys(since).length) params.since = since;
    let result: ConnectResult;
    try {
      result = await this.send<ConnectResult>('connect', params);
    } catch (error) {
      if (this.live !== id) return;
      const e = error as HeraldError;
      if (e.code === 109) this.token = undefined; // expired: the server closes with 4005, the next attempt gets a new one
      this.emit('error', e);
      // Refusals are followed by a disconnect push and a close; a timeout is not.
      if (e.code === 0) this.drop(ClientCloseCodes.Lost, e.message);
      return;
    }
    if (this.live !== id) return;
    this.connected(result);
  }

  private connected(result: ConnectResult): void {
    this.info = result;
    this.attempts = 0;
    this.aliveMs = ((result.ping || 25) + (result.pong || 10)) * 1000;
    this.touch();
    this.scheduleRefresh(result.expires_in);
    // The token's channels get their Subscription before 'connect', so its listeners can attach to them there.
    const tokenSubs = Object.entries(result.subs || {}).map(([channel, state]) => {
      let sub = this.subs.get(channel);
      if (!sub) this.subs.set(channel, (sub = new Subscription(this.host, channel, {}, true)));
      return () => sub!.handleSubscribed(state, state.recovered !== undefined);
    });
    this.setState('connected');
    this.emit('connect', result);
    for (const handle of tokenSubs) handle();
    for (const entry of (result.inbox && result.inbox.publications) || []) this.emit('inbox', entry);
    for (const sub of this.subs.values()) if (!sub.fromServer) void sub.resubscribe();
  }

  private receive(text: string): void {
    this.touch();
    let frame: any;
    try {
      frame = JSON.parse(text);
    } catch {
      return this.emit('error', new HeraldError(104, `the server sent a frame that is not JSON: ${text.slice(0, 100)}`));
    }
    if (frame.id !== undefined) {
      const pending = this.pending.get(frame.id);
      if (!pending) return;
      this.pending.delete(frame.id);
      clearTimeout(pending.timer);
      if (frame.error) pending.reject(new HeraldError(frame.error.code, frame.error.message));
      else pending.resolve(frame.result || {});
      return;
    }
    if (frame.error) return this.emit('error', new HeraldError(frame.error.code, frame.error.message));
    switch (frame.push) {
      case 'ping':
        return this.socket?.send('{"method":"pong"}');
      case 'pub': {
        const pub: Publication = { data: frame.data };
        if (frame.channel !== undefined) pub.channel = frame.channel;
        if (frame.offset !== undefined) pub.offset = frame.offset;
        const sub = pub.channel !== undefined ? this.subs.get(pub.channel) : undefined;
        return sub && sub.state !== 'unsubscribed' ? sub.handlePublication(pub) : this.emit('publication', pub);
      }
      case 'inbox':
        return this.emit('inbox', { offset: frame.offset, data: frame.data });
      case 'join':
      case 'leave': {
        const event: PresenceEvent = { channel: frame.channel, client: frame.client, user: frame.user, info: frame.info };
        this.subs.get(frame.channel)?.handlePresence(frame.push, event);
        return this.emit(frame.push, event);
      }
      case 'subscribe':
      case 'unsubscribe':
        // The backend's subscriptions get no Subscription: their publications come as client 'publication' events.
        return this.emit(frame.push, { channel: frame.channel });
      case 'disconnect':
        this.lastDisconnect = { code: frame.code, reason: frame.reason || '', reconnect: frame.reconnect !== false };
        return;
    }
  }

  /** Ends the current socket from the client side, without waiting for a close handshake. */
  private drop(code: number, reason: string): void {
    const socket = this.socket;
    this.closed(code, reason, true);
    try {
      socket?.close(code >= 4000 ? code : 1000, reason.slice(0, 120));
    } catch {
      /* already closed */
    }
  }

  private closed(code: number, reason: string, mayReconnect: boolean): void {
    if (!this.live) return;
    this.live = 0;
    this.socket = undefined;
    clearTimeout(this.refreshTimer);
    clearTimeout(this.aliveTimer);
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new HeraldError(0, 'connection closed'));
    }
    this.pending.clear();
    // Token channels are renewed by the next connect; those without a position have nothing to recover, so the
    // next connect simply creates them again.
    for (const sub of [...this.subs.values()]) {
      if (sub.fromServer && sub.sinceParam() === undefined) this.subs.delete(sub.channel);
      else sub.suspend();
    }
    const pushed = this.lastDisconnect;
    if (pushed && (code === 1006 || code === 1005 || code === 1000)) {
      code = pushed.code;
      reason = pushed.reason;
    }
    const reconnect = mayReconnect && shouldReconnect(code) && !(code === 4005 && !this.options.getToken);
    if (code === 4005) this.token = undefined;
    this.emit('disconnect', { code, reason, reconnect });
    if (reconnect) {
      if (code === 4005) {
        this.attempts = 0;
        this.setState('connecting');
        this.reconnectTimer = setTimeout(() => this.open(), 0);
      } else this.scheduleReconnect();
    } else this.setState('disconnected');
  }

  private scheduleReconnect(): void {
    this.setState('connecting');
    const base = Math.min(this.maxDelay, this.minDelay * 2 ** this.attempts++);
    const delay = base / 2 + (Math.random() * base) / 2;
    this.reconnectTimer = setTimeout(() => this.open(), delay);
  }

  private scheduleRefresh(expiresIn?: number): void {
    clearTimeout(this.refreshTimer);
    if (expiresIn === undefined || !this.options.getToken) return;
    const margin = Math.min(30, Math.max(1, expiresIn / 3));
    this.refreshTimer = setTimeout(() => void this.refresh(), Math.max(0, expiresIn - margin) * 1000);
  }

  private async refresh(): Promise<void> {
    try {
      const token = await this.options.getToken!();
      if (this._state !== 'connected') return;
      const result = await this.call<{ expires_in?: number }>('refresh', { token });
      this.token = token;
      this.scheduleRefresh(result.expires_in);
    } catch (error) {
      this.emit('error', error instanceof HeraldError ? error : new HeraldError(0, `token refresh failed: ${error}`));
      // Try again shortly; if the token runs out first, the server closes with 4005 and the client reconnects.
      if (this._state === 'connected') this.refreshTimer = setTimeout(() => void this.refresh(), 1000);
    }
  }

  /** Any frame from the server proves it alive; silence longer than ping + pong means the connection is gone. */
  private touch(): void {
    if (!this.aliveMs) return;
    clearTimeout(this.aliveTimer);
    this.aliveTimer = setTimeout(() => this.drop(ClientCloseCodes.NoPing, 'no ping from the server in time'), this.aliveMs);
  }

  private setState(state: ConnectionState): void {
    if (this._state === state) return;
    this._state = state;
    this.emit('state', state);
  }
}
