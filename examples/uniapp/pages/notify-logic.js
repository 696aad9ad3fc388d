// The logic of notify.vue, without uni-app: Herald through uni.connectSocket (uniTransport), the user's personal
// channel `notifications#<user>`, and a toast per notification. examples/test.sh runs it in Node with a fake `uni`.
import { Herald, uniTransport } from 'herald-client';

/** Asks your backend for a connection token with uni.request. */
export function uniGetToken(uni, tokenUrl) {
  return () =>
    new Promise((ok, fail) =>
      uni.request({ url: tokenUrl, success: (r) => ok(r.data.token), fail }),
    );
}

/** Connects, subscribes, and calls onChange(list) with the notifications so far (newest first). */
export function startNotify({ uni, url, userId, getToken, onChange }) {
  const herald = new Herald(url, { transport: uniTransport(uni), getToken });
  let list = [];
  const sub = herald.subscribe(`notifications#${userId}`);
  sub.on('publication', (p) => {
    list = [p.data, ...list].slice(0, 50);
    onChange(list);
    uni.showToast({ title: String(p.data.title ?? 'New notification'), icon: 'none' });
  });
  herald.connect();
  return async () => {
    await sub.unsubscribe().catch(() => {}); // already gone if the connection is down
    herald.disconnect();
  };
}
