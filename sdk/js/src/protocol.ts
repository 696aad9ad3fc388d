/** The subprotocol of Herald's native protocol. */
export const PROTOCOL = 'herald.v1';

/** A position in a channel's stream: the offset of the last publication handled, and the stream's epoch. */
export interface StreamPosition {
  offset: number;
  epoch: string;
}

/** A stored publication as it appears in recovery and inbox lists. */
export interface StoredPublication {
  offset: number;
  event?: string;
  data: unknown;
}

/** The state of a subscription as answered by `subscribe` (or one entry of connect's `subs`). */
export interface SubscribeResult {
  offset?: number;
  epoch?: string;
  recovered?: boolean;
  publications?: StoredPublication[];
}

/** The user's durable inbox as answered by `connect`. */
export interface InboxState {
  offset: number;
  acked: number;
  publications: StoredPublication[];
}

/** The result of `connect`. */
export interface ConnectResult {
  client: string;
  version: string;
  ping: number;
  pong: number;
  user?: string;
  expires_in?: number;
  subs?: Record<string, SubscribeResult>;
  inbox?: InboxState;
}

/**
 * A publication pushed to the client. `channel` and `offset` are absent when the publish had none; `event` is the
 * event name the publish gave (`"event"` of the publish body), absent when it gave none.
 */
export interface Publication<T = unknown> {
  channel?: string;
  offset?: number;
  event?: string;
  data: T;
}

/** A join or leave push of a channel's member. */
export interface PresenceEvent {
  channel: string;
  client: string;
  user: string;
  info?: unknown;
}

/** One entry of the user's inbox, from the connect reply or an `inbox` push; `event` as in `Publication`. */
export interface InboxEntry<T = unknown> {
  offset: number;
  event?: string;
  data: T;
}

/** A member of a channel, as listed by `presence`. */
export interface PresenceMember {
  client: string;
  user: string;
  info?: unknown;
}

/** One page of a channel's members. */
export interface PresencePage {
  members: PresenceMember[];
  cursor?: string;
}

/** Counts of a channel's members. */
export interface PresenceStats {
  connections: number;
  users: number;
}

/** Why a connection ended. `reconnect` says whether the client reconnects by itself. */
export interface DisconnectEvent {
  code: number;
  reason: string;
  reconnect: boolean;
}

/** An error answered by the server (`code` from Herald's error table) or raised by the client (`code` 0). */
export class HeraldError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'HeraldError';
  }
}

/** Close codes 4000-4499 and those outside 4000-4999 (network, WebSocket layer) allow a reconnect. */
export function shouldReconnect(code: number): boolean {
  return code < 4500 || code > 4999;
}

/** Close codes the client uses for ends it decided itself. */
export const ClientCloseCodes = {
  /** No frame from the server within ping + pong seconds. */
  NoPing: 4001,
  /** The transport failed without a close code. */
  Lost: 1006,
  /** The server did not agree to the native subprotocol. */
  NoSubprotocol: 4500,
} as const;
