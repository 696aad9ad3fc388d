/** What a transport reports to the client. Each connection reports `onClose` at most once. */
export interface TransportHandlers {
  /** The socket is open; `protocol` is the subprotocol the server chose, when the platform tells it. */
  onOpen(protocol?: string): void;
  onMessage(text: string): void;
  onClose(code: number, reason: string): void;
  onError(error: unknown): void;
}

/** One open (or opening) socket. */
export interface TransportConnection {
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

/**
 * Reports the device going offline (`false`) or online (`true`); returns a function that stops watching.
 * The client drops its socket at once when offline and reconnects at once when online.
 */
export type NetworkWatcher = (onChange: (online: boolean) => void) => () => void;

/**
 * Opens a socket to `url` asking for `protocols`. Plug in your platform's WebSocket here. A transport may carry a
 * `watchNetwork` for its platform's network events (the bundled ones do).
 */
export interface Transport {
  (url: string, protocols: string[], handlers: TransportHandlers): TransportConnection;
  watchNetwork?: NetworkWatcher;
}

/** Watches the `online` and `offline` events of the global object (`window` in browsers); nothing where there are none. */
export const browserNetwork: NetworkWatcher = (onChange) => {
  const target = globalThis as unknown as {
    addEventListener?: (type: string, listener: () => void) => void;
    removeEventListener?: (type: string, listener: () => void) => void;
  };
  if (typeof target.addEventListener !== 'function') return () => {};
  const online = () => onChange(true);
  const offline = () => onChange(false);
  target.addEventListener('online', online);
  target.addEventListener('offline', offline);
  return () => {
    target.removeEventListener?.('online', online);
    target.removeEventListener?.('offline', offline);
  };
};

/** The shape of a WHATWG WebSocket constructor (browsers, Node 22, or the `ws` package). */
export interface WebSocketLike {
  readonly protocol: string;
  onopen: ((event: any) => void) | null;
  onmessage: ((event: { data: any }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: any) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** A transport over a WHATWG WebSocket: the global one by default, or the constructor given (e.g. `ws`). */
export function webSocketTransport(WebSocketImpl?: WebSocketConstructor): Transport {
  const transport: Transport = (url, protocols, handlers) => {
    const Impl = WebSocketImpl || (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Impl) {
      throw new Error("no global WebSocket here: pass { transport: webSocketTransport(WebSocket) }, e.g. from the 'ws' package");
    }
    const ws = new Impl(url, protocols);
    ws.onopen = () => handlers.onOpen(ws.protocol);
    ws.onmessage = (e) => handlers.onMessage(typeof e.data === 'string' ? e.data : String(e.data));
    ws.onclose = (e) => handlers.onClose(e.code, e.reason);
    // Browsers give an Event without any detail (on purpose); `ws` gives one with the cause in `message`.
    ws.onerror = (e) => handlers.onError(e && e.message ? new Error(String(e.message)) : e);
    return {
      send: (text) => ws.send(text),
      close: (code, reason) => ws.close(code, reason),
    };
  };
  transport.watchNetwork = browserNetwork;
  return transport;
}

/** The SocketTask of WeChat mini-programs and uni-app (`wx.connectSocket`, `uni.connectSocket`). */
export interface SocketTask {
  onOpen(callback: (res: any) => void): void;
  onMessage(callback: (res: { data: string | ArrayBuffer }) => void): void;
  onClose(callback: (res: { code: number; reason: string }) => void): void;
  onError(callback: (res: { errMsg?: string }) => void): void;
  send(options: { data: string; success?: () => void; fail?: (res: { errMsg?: string }) => void }): void;
  close(options: { code?: number; reason?: string; success?: () => void; fail?: () => void }): void;
}

/** What `wx.onNetworkStatusChange` / `uni.onNetworkStatusChange` report. */
export interface NetworkStatus {
  isConnected: boolean;
  networkType?: string;
}

/** The part of `wx` / `uni` the adapters use (`onNetworkStatusChange` and its `off` when the platform has them). */
export interface ConnectSocketApi {
  onNetworkStatusChange?(callback: (res: NetworkStatus) => void): void;
  offNetworkStatusChange?(callback: (res: NetworkStatus) => void): void;
  connectSocket(options: {
    url: string;
    protocols?: string[];
    header?: Record<string, string>;
    success?: () => void;
    fail?: (res: { errMsg?: string }) => void;
    complete?: () => void;
  }): SocketTask;
}

function socketTaskTransport(api: ConnectSocketApi, name: string): Transport {
  const transport: Transport = (url, protocols, handlers) => {
    let closed = false;
    const close = (code: number, reason: string) => {
      if (closed) return;
      closed = true;
      handlers.onClose(code, reason);
    };
    // uni-app returns a SocketTask only when one of success/fail/complete is given.
    const task = api.connectSocket({
      url,
      protocols,
      complete: () => {},
      fail: (res) => {
        handlers.onError(new Error(`${name}.connectSocket failed: ${(res && res.errMsg) || 'unknown error'}`));
        close(1006, (res && res.errMsg) || 'connectSocket failed');
      },
    });
    task.onOpen(() => handlers.onOpen());
    task.onMessage((res) => {
      if (typeof res.data === 'string') handlers.onMessage(res.data);
    });
    task.onClose((res) => close(res && typeof res.code === 'number' ? res.code : 1006, (res && res.reason) || ''));
    task.onError((res) => handlers.onError(new Error(`${name} socket error: ${(res && res.errMsg) || 'unknown error'}`)));
    return {
      send: (text) => task.send({ data: text }),
      close: (code, reason) => task.close({ code, reason }),
    };
  };
  transport.watchNetwork = (onChange) => {
    if (typeof api.onNetworkStatusChange !== 'function') return () => {};
    const listener = (res: NetworkStatus) => onChange(!!res && res.isConnected !== false);
    api.onNetworkStatusChange(listener);
    // Older base libraries have no off: the listener then stays, and the client ignores it once disconnected.
    return () => api.offNetworkStatusChange?.(listener);
  };
  return transport;
}

/** A transport for WeChat mini-programs: `new Herald(url, { transport: wxTransport(wx) })`. */
export function wxTransport(wx: ConnectSocketApi): Transport {
  return socketTaskTransport(wx, 'wx');
}

/** A transport for uni-app (every platform it builds for): `new Herald(url, { transport: uniTransport(uni) })`. */
export function uniTransport(uni: ConnectSocketApi): Transport {
  return socketTaskTransport(uni, 'uni');
}
