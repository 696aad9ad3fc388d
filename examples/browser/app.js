// Herald in a web page: the logic behind index.html, kept in a module so examples/test.sh can run it in Node.
//
// startPlain(): a plain WebSocket (no library) that announces its attributes and shows every text frame that arrives.
// startNative(): the native protocol herald.v1 through the JS SDK: a user's personal channel and inbox.
// `herald-client` is sdk/js (index.html maps it to ../../sdk/js/dist/index.js with an import map).
import { Herald } from 'herald-client';

/** Appends one line to the list with this id. */
export function show(listId, text) {
  const item = document.createElement('li');
  item.textContent = text;
  document.getElementById(listId).appendChild(item);
}

/** Plain client: sends its attributes once open; publishes whose `where` matches them arrive as text. */
export function startPlain(url, attrs, listId = 'plain') {
  const ws = new WebSocket(url);
  ws.onopen = () => {
    ws.send(JSON.stringify(attrs)); // e.g. {"school_id":"2","school_class_id":"1"}
    show(listId, `connected as ${JSON.stringify(attrs)}`);
  };
  ws.onmessage = (e) => show(listId, `received: ${e.data}`);
  ws.onclose = (e) => show(listId, `closed (${e.code})`);
  return ws;
}

/** Native client: connects with a token from getToken, subscribes to `channel`, shows publications and inbox. */
export function startNative(url, getToken, channel, listId = 'native') {
  const herald = new Herald(url, { getToken });
  herald.on('state', (s) => show(listId, `state: ${s}`));
  herald.on('inbox', (entry) => {
    show(listId, `inbox #${entry.offset}: ${JSON.stringify(entry.data)}`);
    // An entry not acknowledged (say, the connection dropped first) comes again at the next connect.
    herald.ackInbox(entry.offset).catch(() => {});
  });
  const sub = herald.subscribe(channel);
  sub.on('subscribed', () => show(listId, `subscribed to ${channel}`));
  sub.on('publication', (p) => show(listId, `${p.channel} #${p.offset}: ${JSON.stringify(p.data)}`));
  sub.on('error', (e) => show(listId, `subscribe refused: ${e.message}`));
  herald.connect();
  return herald;
}
