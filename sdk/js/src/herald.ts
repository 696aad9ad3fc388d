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
import { InboxDelivery } from './inbox';
import { Subscription, type SubscribeOptions, type SubscriptionHost } from './subscription';
import { webSocketTransport, type NetworkWatcher, type Transport, type TransportConnection } from './transport';

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
  /**
   * Where to hear that the device went offline or online: by default the transport's own (`online`/`offline` events
   * of the browser window, `onNetworkStatusChange` of wx and uni); `false` turns it off.
   */
  network?: NetworkWatcher | false;
  /** Logs what the client does (connects, drops, recoveries): `true` to the console, or a function of your own. Off by default. */
  debug?: boolean | ((message: string) => void);
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

/** A command waiting for its reply; `done` runs while the reply frame is handled (see SubscriptionHost.request). */
interface Pending {
  done(error: HeraldError | undefined, result?: any): void;
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
  private subs = new Map<string, Subscription<any>>();
  private attempts = 0;
  private reconnectTimer?: ReturnType<typeof setTimeout>;
  private refreshTimer?: ReturnType<typeof setTimeout>;
  private aliveTimer?: ReturnType<typeof setTimeout>;
  private aliveMs = 0;
  private lastDisconnect?: DisconnectEvent;
  private readonly host: SubscriptionHost;
  /** Whether the current socket opened: an attempt that never opened reports one `error` and no `disconnect`. */
  private opened = false;
  private offline = false;
  private unwatchNetwork?: () => void;
  private readonly log: (message: string) => void;
  private readonly inbox = new InboxDelivery();

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
    const debug = options.debug;
    this.log =
      typeof debug === 'function' ? debug : debug ? (message) => console.log(`[herald] ${message}`) : () => {};
    this.host = {
      call: (method, params) => this.call(method, params),
      request: (method, params, done) => this.request(method, params, done),
      isConnected: () => this._state === 'connected' && this.live !== 0,
      forget: (sub) => this.subs.get(sub.channel) === sub && this.subs.delete(sub.channel),
      log: this.log,
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
    const watch = this.options.network === false ? undefined : this.options.network || this.transport.watchNetwork;
    if (watch && !this.unwatchNetwork) this.unwatchNetwork = watch((online) => this.networkChanged(online));
    this.open();
  }

  /** Closes the connection for good; subscriptions stay registered for a later `connect()`. */
  disconnect(): void {
    clearTimeout(this.reconnectTimer);
    this.unwatchNetwork?.();
    this.unwatchNetwork = undefined;
    this.offline = false;
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
  subscribe<T = unknown>(channel: string, options: SubscribeOptions = {}): Subscription<T> {
    let sub = this.subs.get(channel) as Subscription<T> | undefined;
    if (sub && !sub.fromServer) {
      // A subscription the server refused is tried again.
      if (sub.state === 'unsubscribed' && this._state === 'connected') void sub.resubscribe();
      return sub;
    }
    const since = sub && sub.sinceParam();
    sub = new Subscription<T>(this.host, channel, since && !options.since ? { ...options, since } : options);
    this.subs.set(channel, sub);
    if (this._state === 'connected') void sub.resubscribe();
    return sub;
  }

  /** The subscription of a channel: yours, or one of the token's `channels`. */
  getSubscription<T = unknown>(channel: string): Subscription<T> | undefined {
    return this.subs.get(channel);
  }

  /** Adds a listener; `on<T>('publication' | 'inbox', ...)` types the `data` of what it receives. */
  on<T = unknown>(event: 'publication', listener: (publication: Publication<T>) => void): () => void;
  on<T = unknown>(event: 'inbox', listener: (entry: InboxEntry<T>) => void): () => void;
  on<K extends keyof HeraldEvents>(event: K, listener: (event: HeraldEvents[K]) => void): () => void;
  on(event: keyof HeraldEvents, listener: (event: any) => void): () => void {
    return super.on(event, listener);
  }

  /** Adds a listener that runs once; typed like `on`. */
  once<T = unknown>(event: 'publication', listener: (publication: Publication<T>) => void): () => void;
  once<T = unknown>(event: 'inbox', listener: (entry: InboxEntry<T>) => void): () => void;
  once<K extends keyof HeraldEvents>(event: K, listener: (event: HeraldEvents[K]) => void): () => void;
  once(event: keyof HeraldEvents, listener: (event: any) => void): () => void {
    return super.once(event, listener);
  }

  /** Errors also go to the debug log. */
  protected emit<K extends keyof HeraldEvents>(event: K, payload: HeraldEvents[K]): void {
    if (event === 'error') this.log(`error ${(payload as HeraldError).code}: ${(payload as HeraldError).message}`);
    super.emit(event, payload);
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
    return this.call<{ acked: number }>('inbox_ack', { offset }).then((result) => {
      this.inbox.acked(result.acked);
      return result;
    });
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
    return new Promise<T>((resolve, reject) => this.request(method, params, (error, result) => (error ? reject(error) : resolve(result))));
  }

  /**
   * Sends a command; `done` runs synchronously while its reply frame is handled. Replies that change what later
   * frames mean (connect, subscribe) use this instead of a promise, whose continuation would run only after the
   * rest of the frames the platform delivered in the same turn.
   */
  private request(method: string, params: object | undefined, done: Pending['done']): void {
    const socket = this.socket;
    if (!socket) return done(new HeraldError(0, `not connected: cannot send ${method}`));
    const id = this.nextId++;
    const timer = setTimeout(() => {
      this.pending.delete(id);
      done(new HeraldError(0, `no reply to ${method} within ${this.timeout} ms`));
    }, this.timeout);
    this.pending.set(id, { done, timer });
    try {
      socket.send(JSON.stringify(params ? { id, method, params } : { id, method }));
    } catch (error) {
      clearTimeout(timer);
      this.pending.delete(id);
      done(new HeraldError(0, `could not send ${method}: ${(error as Error)?.message || error}`));
    }
  }

  private open(): void {
    this.setState('connecting');
    this.lastDisconnect = undefined;
    this.opened = false;
    const id = (this.live = ++this.sockets);
    const current = () => this.live === id;
    this.log(`connecting to ${this.url}`);
    let socket: TransportConnection;
    try {
      // Platforms may call back before connectSocket returns: the callbacks go by id, not by the returned object.
      socket = this.transport(this.url, [PROTOCOL], {
        onOpen: (protocol) => {
          if (!current()) return;
          this.opened = true;
          if (protocol !== undefined && protocol !== PROTOCOL) {
            return this.drop(ClientCloseCodes.NoSubprotocol, `the server did not accept the subprotocol ${PROTOCOL}: is this Herald?`);
          }
          void Promise.resolve().then(() => this.handshake(id));
        },
        onMessage: (text) => current() && this.receive(text),
        onClose: (code, reason) => current() && this.closed(code, reason, true),
        onError: (error) => {
          if (!current()) return;
          const detail = (error as Error)?.message;
          // One error per attempt, worded for the person reading it: the close that follows adds nothing.
          this.emit(
            'error',
            new HeraldError(
              0,
              this.opened
                ? `the connection to ${this.url} failed: ${detail || 'network error'}`
                : `cannot connect to ${this.url}: ${detail || 'the server did not answer (check the address, that Herald runs there, and the network)'}`,
            ),
          );
          this.drop(ClientCloseCodes.Lost, detail || 'network error', true);
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
    this.request('connect', params, (e, result?: ConnectResult) => {
      if (this.live !== id) return;
      if (!e) return this.connected(result!);
      if (e.code === 109) this.token = undefined; // expired: the server closes with 4005, the next attempt gets a new one
      this.emit('error', e);
      // Refusals are followed by a disconnect push and a close; a timeout is not.
      if (e.code === 0) this.drop(ClientCloseCodes.Lost, e.message);
    });
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
    this.log(`connected as client ${result.client}${result.user ? ` of user ${result.user}` : ''}`);
    this.setState('connected');
    this.emit('connect', result);
    for (const handle of tokenSubs) handle();
    if (result.inbox) {
      const entries = this.inbox.fromConnect(result.user, result.inbox);
      const repeated = (result.inbox.publications || []).length - entries.length;
      if (repeated) this.log(`inbox: ${repeated} entries of the connect reply were handed out before, skipped`);
      for (const entry of entries) this.emit('inbox', entry);
    }
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
      if (frame.error) pending.done(new HeraldError(frame.error.code, frame.error.message));
      else pending.done(undefined, frame.result || {});
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
        if (frame.event !== undefined) pub.event = frame.event;
        const sub = pub.channel !== undefined ? this.subs.get(pub.channel) : undefined;
        return sub && sub.state !== 'unsubscribed' ? sub.handlePublication(pub) : this.emit('publication', pub);
      }
      case 'inbox': {
        const entry: InboxEntry = { offset: frame.offset, data: frame.data };
        if (frame.event !== undefined) entry.event = frame.event;
        return this.inbox.live(entry) ? this.emit('inbox', entry) : undefined;
      }
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
  private drop(code: number, reason: string, reported = false): void {
    const socket = this.socket;
    this.closed(code, reason, true, reported);
    try {
      socket?.close(code >= 4000 ? code : 1000, reason.slice(0, 120));
    } catch {
      /* already closed */
    }
  }

  /** `reported`: an error event already told why this attempt failed. */
  private closed(code: number, reason: string, mayReconnect: boolean, reported = false): void {
    if (!this.live) return;
    this.live = 0;
    this.socket = undefined;
    clearTimeout(this.refreshTimer);
    clearTimeout(this.aliveTimer);
    // Token channels are renewed by the next connect; those without a position have nothing to recover, so the
    // next connect simply creates them again. Subscriptions are suspended before the pending replies fail, so a
    // subscribe cut short reads as "wait for the next connection", not as a refusal.
    for (const sub of [...this.subs.values()]) {
      if (sub.fromServer && sub.sinceParam() === undefined) this.subs.delete(sub.channel);
      else sub.suspend();
    }
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.done(new HeraldError(0, 'connection closed'));
    }
    const pushed = this.lastDisconnect;
    if (pushed && (code === 1006 || code === 1005 || code === 1000)) {
      code = pushed.code;
      reason = pushed.reason;
    }
    const reconnect = mayReconnect && shouldReconnect(code) && !(code === 4005 && !this.options.getToken);
    if (code === 4005) this.token = undefined;
    this.log(`disconnected: ${code} ${reason}${reconnect ? ', reconnecting' : ''}`);
    if (this.opened || !mayReconnect) this.emit('disconnect', { code, reason, reconnect });
    else if (!reported) {
      // A socket that never opened is one failed attempt: one error that says so, no disconnect of a connection that never was.
      this.emit('error', new HeraldError(0, `cannot connect to ${this.url}: the socket closed with ${code}${reason ? ` (${reason})` : ''} before it opened`));
    }
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
    // While the device is offline an attempt cannot succeed: wait for `online`, trying rarely in case it never comes.
    const base = this.offline ? this.maxDelay : Math.min(this.maxDelay, this.minDelay * 2 ** this.attempts++);
    const delay = base / 2 + (Math.random() * base) / 2;
    this.log(`next attempt in ${Math.round(delay)} ms${this.offline ? ' (offline)' : ''}`);
    this.reconnectTimer = setTimeout(() => this.open(), delay);
  }

  /** Offline: the socket is dead whatever it says, drop it now. Online: try now instead of waiting out the backoff. */
  private networkChanged(online: boolean): void {
    if (this._state === 'disconnected') return;
    this.log(`the network is ${online ? 'online' : 'offline'}`);
    const wasOffline = this.offline;
    this.offline = !online;
    if (!online) {
      if (this.live) this.drop(ClientCloseCodes.Lost, 'the device went offline');
      else if (!wasOffline) {
        clearTimeout(this.reconnectTimer);
        this.scheduleReconnect();
      }
    } else if (!this.live) {
      // Also an `online` without an `offline` before it (a new network): the pending retry is worth making now.
      clearTimeout(this.reconnectTimer);
      if (wasOffline) this.attempts = 0;
      this.open();
    }
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
