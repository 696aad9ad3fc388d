// The framework-free part of NotificationBell.vue: one Herald connection, the user's personal channel
// `notifications#<user>`, and a list of what arrived (newest first). examples/test.sh runs it in Node against a
// real server; the component only wires it to Vue's reactivity and lifecycle.
import { Herald } from 'herald-client';

/**
 * @param {object} o
 * @param {string} o.url       e.g. 'wss://push.example.com/'
 * @param {string|number} o.userId
 * @param {() => Promise<string>} o.getToken  fetches a connection token for this user from your backend
 * @param {(items: object[]) => void} o.onChange  called with the new list after each notification
 * @param {number} [o.max]     how many notifications to keep
 * @param {import('herald-client').Transport} [o.transport]  default: the global WebSocket
 */
export function startNotifications({ url, userId, getToken, onChange, max = 20, transport }) {
  const herald = new Herald(url, transport ? { getToken, transport } : { getToken });
  let items = [];
  const sub = herald.subscribe(`notifications#${userId}`);
  sub.on('publication', (p) => {
    items = [p.data, ...items].slice(0, max);
    onChange(items);
  });
  herald.connect();
  return {
    herald,
    subscription: sub,
    /** Leaves the channel and closes the connection (call it on unmount). */
    async stop() {
      await sub.unsubscribe().catch(() => {}); // already gone if the connection is down
      herald.disconnect();
    },
  };
}
