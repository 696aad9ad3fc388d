// Test doubles for examples/test.sh: `wx` / `uni` objects whose connectSocket is backed by
// a real `ws` socket (as sdk/js/test/fakeSocketApi.ts does for the SDK's own tests).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(fileURLToPath(new URL('../../sdk/js/package.json', import.meta.url)));
const WebSocket = require('ws');

/** A fake `wx` or `uni`: connectSocket over `ws`, request answering {token}, showToast recorded in `toasts`. */
export function fakeMiniApi(flavor, token) {
  const toasts = [];
  const sockets = [];
  return {
    toasts,
    sockets,
    request({ success }) {
      setTimeout(() => success({ statusCode: 200, data: { token: token() } }));
    },
    showToast(options) {
      toasts.push(options);
    },
    connectSocket(options) {
      if (flavor === 'uni' && !options.success && !options.fail && !options.complete) {
        return Promise.resolve({ errMsg: 'connectSocket:ok' });
      }
      const ws = new WebSocket(options.url, options.protocols);
      sockets.push(ws);
      const cb = {};
      let settled = false;
      ws.on('open', () => { settled = true; cb.open?.({ header: {} }); });
      ws.on('message', (data) => cb.message?.({ data: data.toString() }));
      ws.on('close', (code, reason) => cb.close?.({ code, reason: reason.toString() }));
      ws.on('error', (e) => {
        cb.error?.({ errMsg: e.message });
        if (!settled) { settled = true; options.fail?.({ errMsg: `connectSocket:fail ${e.message}` }); }
      });
      setTimeout(() => { options.success?.(); options.complete?.(); });
      return {
        onOpen: (f) => void (cb.open = f),
        onMessage: (f) => void (cb.message = f),
        onClose: (f) => void (cb.close = f),
        onError: (f) => void (cb.error = f),
        send: ({ data, success, fail }) => ws.send(data, (e) => (e ? fail?.({ errMsg: e.message }) : success?.())),
        close: ({ code, reason, success } = {}) => {
          ws.close(code === undefined || code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000, reason);
          success?.();
        },
      };
    },
  };
}
