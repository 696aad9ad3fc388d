// Fakes of wx.connectSocket / uni.connectSocket that behave like the documented APIs, backed by a real `ws` socket.
import WebSocket from 'ws';
import type { ConnectSocketApi, SocketTask } from '../src';

type Options = Parameters<ConnectSocketApi['connectSocket']>[0];

export interface FakeSocketApi extends ConnectSocketApi {
  calls: Options[];
  tasks: WebSocket[];
  /** Plays the platform's network change: listeners hear it; while offline, new sockets fail (open ones stay, stale). */
  setNetwork(isConnected: boolean): void;
  networkListeners: ((res: { isConnected: boolean; networkType?: string }) => void)[];
}

/**
 * `flavor: 'wx'` always returns a SocketTask; `flavor: 'uni'` returns one only when success, fail or complete is
 * given (as uni-app does), a Promise otherwise.
 */
export function fakeSocketApi(flavor: 'wx' | 'uni'): FakeSocketApi {
  const calls: Options[] = [];
  const tasks: WebSocket[] = [];
  const networkListeners: FakeSocketApi['networkListeners'] = [];
  let online = true;
  return {
    calls,
    tasks,
    networkListeners,
    setNetwork(isConnected) {
      online = isConnected;
      for (const listener of networkListeners.slice()) listener({ isConnected, networkType: isConnected ? 'wifi' : 'none' });
    },
    onNetworkStatusChange: (listener) => void networkListeners.push(listener),
    offNetworkStatusChange: (listener) => {
      const i = networkListeners.indexOf(listener);
      if (i >= 0) networkListeners.splice(i, 1);
    },
    connectSocket(options: Options): SocketTask {
      calls.push(options);
      if (!online) {
        setTimeout(() => options.fail?.({ errMsg: 'connectSocket:fail network is down' }));
        return { onOpen() {}, onMessage() {}, onClose() {}, onError() {}, send() {}, close() {} };
      }
      if (flavor === 'uni' && !options.success && !options.fail && !options.complete) {
        return Promise.resolve({ errMsg: 'connectSocket:ok' }) as unknown as SocketTask;
      }
      const ws = new WebSocket(options.url, options.protocols);
      tasks.push(ws);
      const callbacks: Record<string, ((res: any) => void) | undefined> = {};
      let settled = false;
      ws.on('open', () => {
        settled = true;
        callbacks.open?.({ header: {}, profile: {} });
      });
      ws.on('message', (data, isBinary) =>
        callbacks.message?.({ data: isBinary ? (data as Buffer).buffer : data.toString() }),
      );
      ws.on('close', (code, reason) => callbacks.close?.({ code, reason: reason.toString() }));
      ws.on('error', (error) => {
        callbacks.error?.({ errMsg: error.message });
        if (!settled) {
          settled = true;
          options.fail?.({ errMsg: `connectSocket:fail ${error.message}` });
        }
      });
      setTimeout(() => {
        options.success?.();
        options.complete?.();
      });
      return {
        onOpen: (cb) => void (callbacks.open = cb),
        onMessage: (cb) => void (callbacks.message = cb),
        onClose: (cb) => void (callbacks.close = cb),
        onError: (cb) => void (callbacks.error = cb),
        send: ({ data, success, fail }) =>
          ws.send(data, (error) => (error ? fail?.({ errMsg: `sendSocketMessage:fail ${error.message}` }) : success?.())),
        close: ({ code, reason, success }) => {
          // Mini-program runtimes accept only 1000 and 3000-4999.
          ws.close(code === undefined || code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000, reason);
          success?.();
        },
      };
    },
  };
}
