// A transport whose far end is the test: it sees every frame the client sends and hands the client frames in
// exactly the batches and turns the test chooses, as platforms that deliver several frames of one read in one
// turn (Node's `ws`) or one per turn (browsers, mini-programs) do. It checks the client's ordering logic alone;
// the chaos tests check the same against the real server.
import type { Transport, TransportHandlers } from '../src';
import { until } from './helpers';

export interface Sent {
  id?: number;
  method: string;
  params?: any;
}

export class ScriptedSocket {
  readonly sent: Sent[] = [];
  closed = false;

  constructor(readonly handlers: TransportHandlers) {}

  open(): void {
    this.handlers.onOpen('herald.v1');
  }

  /** Hands the frames to the client one after another in this same turn. */
  deliver(...frames: object[]): void {
    for (const frame of frames) this.handlers.onMessage(JSON.stringify(frame));
  }

  /** The socket is lost without a close frame. */
  lose(): void {
    this.handlers.onClose(1006, '');
  }

  /** Waits for the client to send `method` (the n-th such command, from 1) and returns it. */
  async command(method: string, nth = 1): Promise<Sent> {
    return until(() => this.sent.filter((s) => s.method === method)[nth - 1], 3000, `the client to send ${method}`);
  }
}

export function scriptedTransport() {
  const sockets: ScriptedSocket[] = [];
  const transport: Transport = (_url, _protocols, handlers) => {
    const socket = new ScriptedSocket(handlers);
    sockets.push(socket);
    return {
      send: (text) => socket.sent.push(JSON.parse(text)),
      close: () => void (socket.closed = true),
    };
  };
  return {
    transport,
    sockets,
    /** The n-th socket the client opened (from 1), once it exists. */
    socket: (n: number) => until(() => sockets[n - 1], 3000, `socket ${n}`),
  };
}

/** A live publication push of `channel` carrying message `n` at `offset`. */
export const pub = (channel: string, offset: number, n = offset) => ({ push: 'pub', channel, offset, data: { n } });

/** An inbox push. */
export const inboxPush = (offset: number, n = offset) => ({ push: 'inbox', offset, data: { n } });

/** The next turn of the event loop (after every pending promise continuation). */
export const nextTurn = () => new Promise((r) => setTimeout(r, 0));
