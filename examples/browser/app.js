// Herald in a web page: the connection logic behind index.html, free of the DOM so examples/test.sh can run it in
// Node. ui.js draws what these controllers report.
//
// plainClient(): a plain WebSocket (no library) that announces its attributes, shows every publish addressed to
//   them with `where`, and reconnects with backoff after the server restarts.
// nativeClient(): the native protocol herald.v1 through the JS SDK: a signed-in user's personal channel, recovered
//   after every reconnect, and the user's durable inbox.
// `herald-client` is sdk/js (index.html maps it to ../../sdk/js/dist/index.js with an import map).
import { Herald, webSocketTransport } from 'herald-client';

/** What each close code means to the person looking at the page (docs/protocol.md, "Close codes"). */
const CLOSE_CODES = {
  1000: ['Closed', 'the connection was closed normally'],
  1001: ['Going away', 'the server or the page went away'],
  1006: ['Connection lost', 'the server could not be reached or the connection dropped without a close frame'],
  1011: ['Server error', 'the server hit an unexpected condition'],
  4000: ['Server restarting', 'the server is shutting down or restarting'],
  4001: ['Stale', 'nothing was heard for too long (keep-alive)'],
  4002: ['Too slow', 'this client read too slowly and its send queue overflowed'],
  4003: ['Connect timeout', 'no connect command arrived in time'],
  4004: ['Reconnect requested', 'the server asked this client to reconnect'],
  4005: ['Token expired', 'the token has expired: get a new one and connect again'],
  4006: ['State lost', 'the server may have missed publications: reconnect and recover'],
  4500: ['Bad request', 'the client broke the protocol'],
  4501: ['Message too large', 'a message was larger than the server allows'],
  4502: ['Disconnected by the backend', 'the backend closed this connection for good'],
  4503: ['Unauthorized', 'the token is missing or invalid; the same token will fail again'],
  4504: ['Too many connections', 'this user already has the most connections allowed'],
};

/** How the page reports a connection the user closed with Disconnect. */
const closedByUser = { code: 1000, title: 'Disconnected', meaning: 'you disconnected', reason: '', text: 'You closed the connection.' };

/** Close codes 4000-4499 and those outside 4000-4999 (network, WebSocket layer) are worth a reconnect. */
export const shouldReconnect = (code) => code < 4500 || code > 4999;

/** A close code and the server's reason, in words: `{code, title, meaning, reason, text}`. */
export function describeClose(code, reason = '') {
  const [title, meaning] = CLOSE_CODES[code] ?? [`Closed (${code})`, shouldReconnect(code) ? 'the connection ended' : 'the server refused this client'];
  const text = `${title} (${code}): ${meaning}${reason ? `. Server says: “${reason}”` : ''}`;
  return { code, title, meaning, reason, text };
}

/** The n-th reconnect delay (n from 0): between half and all of min(max, min * 2^n), so clients do not return in step. */
export function backoff(attempt, min = 500, max = 10000) {
  const base = Math.min(max, min * 2 ** attempt);
  return base / 2 + (Math.random() * base) / 2;
}

/** A received text as data: parsed JSON when it is JSON, the text itself otherwise. */
function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * A plain WebSocket client: sends `attrs` once open and reports each publish that reaches it. It reconnects with
 * backoff after a lost connection or a restart (close codes below 4500), not after a refusal or disconnect().
 * `on.status({state, close?, retryAt?})`: state is 'connecting', 'connected', 'reconnecting' or 'disconnected'.
 * `on.message({kind: 'where', time, data, raw})`.
 */
export function plainClient(url, attrs, on, { minDelay = 500, maxDelay = 10000 } = {}) {
  let ws;
  let state = 'disconnected';
  let attempt = 0;
  let timer;
  const status = (s) => {
    state = s.state;
    on.status(s);
  };

  function open() {
    status({ state: 'connecting', attempt });
    let socket;
    try {
      socket = ws = new WebSocket(url);
    } catch (e) {
      // A URL the browser cannot use (not ws:// or wss://, or malformed) fails here, before any connection.
      status({ state: 'disconnected', close: { code: 0, title: 'Bad address', meaning: e.message, reason: '', text: `Bad address: ${e.message}` } });
      return;
    }
    socket.onopen = () => {
      attempt = 0;
      socket.send(JSON.stringify(attrs)); // e.g. {"school_id":"2","school_class_id":"1"}
      status({ state: 'connected', attrs });
    };
    socket.onmessage = (e) => {
      const raw = String(e.data);
      if (raw === 'pong') return;
      const data = parse(raw);
      // The server's answer to an attribute message it refused, e.g. {"error":{"code":112,...}}.
      if (data && typeof data === 'object' && data.error && Object.keys(data).length === 1) {
        on.error?.(`The server refused the attributes: ${data.error.message} (error ${data.error.code})`);
        return;
      }
      on.message({ kind: 'where', time: new Date(), data, raw });
    };
    socket.onclose = (e) => {
      if (socket !== ws) return; // a socket this client already gave up
      ws = undefined;
      const close = describeClose(e.code, e.reason);
      if (shouldReconnect(e.code)) {
        const delay = backoff(attempt++, minDelay, maxDelay);
        timer = setTimeout(open, delay);
        status({ state: 'reconnecting', close, retryAt: Date.now() + delay, attempt });
      } else status({ state: 'disconnected', close });
    };
  }

  return {
    get state() {
      return state;
    },
    /** Opens the connection; does nothing while one is open, opening or waiting to reconnect. */
    connect() {
      if (state !== 'disconnected') return;
      attempt = 0;
      open();
    },
    /** Closes the connection and stops reconnecting. */
    disconnect() {
      clearTimeout(timer);
      const socket = ws;
      ws = undefined;
      socket?.close(1000, 'closed by the user');
      if (state !== 'disconnected') status({ state: 'disconnected', close: closedByUser });
    },
  };
}

/** A token from the page's backend at /herald-token, with a readable error when there is none. */
export async function fetchToken(endpoint = '/herald-token') {
  let res;
  try {
    res = await fetch(endpoint);
  } catch (e) {
    throw new Error(`no token: paste one above, or serve one at ${endpoint} (${e.message})`);
  }
  if (!res.ok) throw new Error(`no token: paste one above, or serve one at ${endpoint} (it answered ${res.status})`);
  return (await res.text()).trim();
}

/**
 * A native client through the JS SDK, for a signed-in user: subscribes to `channel` (recovered after every reconnect)
 * and shows the user's inbox, acknowledging each entry. `since`: a position kept from an earlier client, to recover
 * from. `debug`: the SDK logs what it does to the console. Reports the same statuses as plainClient, plus
 * `on.message({kind: 'channel' | 'inbox' | 'other', time, channel?, offset?, data, recovered})` and
 * `on.notice({kind: 'subscribed' | 'recovered' | 'not-recovered' | 'refused' | 'error', text})`.
 */
export function nativeClient(url, { getToken, channel, since, debug = false, minDelay = 500, maxDelay = 20000 }, on) {
  let state = 'disconnected';
  let attempt = 0;
  let lastClose;
  let lastError;
  let missed = 0; // publications recovered since the last reconnect
  let noToken = false;
  let userClosed = false;
  const status = (s) => {
    state = s.state;
    on.status(s);
  };
  // The SDK waits between half and all of min(maxReconnectDelay, minReconnectDelay * 2^n) before attempt n (its
  // README, "Reconnect and recovery"); this transport sees each attempt start, so the page can count down to it.
  const transport = webSocketTransport();
  const herald = new Herald(url, {
    debug, // logs the SDK's steps to the console, in SDK versions that have the option (others ignore it)
    minReconnectDelay: minDelay,
    maxReconnectDelay: maxDelay,
    getToken: async () => {
      try {
        return await getToken();
      } catch (e) {
        // A missing token does not appear by waiting: once the SDK has handled this failure, stop and say what to do.
        const message = String(e.message || e).replace(/^no token: /, '');
        noToken = true;
        lastClose = { code: 0, title: 'No token', meaning: message, reason: '', text: `No token: ${message}` };
        setTimeout(() => herald.disconnect());
        throw e;
      }
    },
    transport: (...args) => {
      status({ state: 'connecting', attempt });
      return transport(...args);
    },
  });

  herald.on('connect', (info) => {
    attempt = 0;
    lastClose = lastError = undefined;
    status({ state: 'connected', user: info.user, client: info.client });
  });
  herald.on('error', (e) => {
    // Errors raised by the client itself (code 0: transport errors, timeouts) say nothing the close code does not
    // say better; a server's error (a refused connect: 101 bad token, ...) is the reason worth showing.
    if (e.code) lastError = e;
  });
  herald.on('disconnect', (e) => {
    if (userClosed) return;
    if (noToken) return; // reported when the client stops, see getToken
    const close = describeClose(e.code, e.reason || lastError?.message);
    lastClose = close;
    missed = 0;
    if (e.reconnect) {
      const bound = Math.min(maxDelay, minDelay * 2 ** attempt++);
      status({ state: 'reconnecting', close, retryAt: Date.now() + bound, attempt, upTo: true });
    }
  });
  herald.on('state', (s) => {
    if (s === 'disconnected' && state !== 'disconnected') {
      noToken = false;
      status({ state: 'disconnected', close: lastClose ?? closedByUser });
    }
  });
  herald.on('inbox', (entry) => {
    on.message({ kind: 'inbox', time: new Date(), offset: entry.offset, data: entry.data });
    // An entry not acknowledged (say, the connection dropped first) comes again at the next connect.
    herald.ackInbox(entry.offset).catch(() => {});
  });
  herald.on('publication', (p) => on.message({ kind: 'other', time: new Date(), channel: p.channel, offset: p.offset, data: p.data }));

  const sub = herald.subscribe(channel, since ? { since } : {});
  sub.on('publication', (p) => {
    // Publications delivered before `subscribed` are the ones recovered from the channel's history.
    const recovered = sub.state === 'subscribing';
    if (recovered) missed++;
    on.message({ kind: 'channel', time: new Date(), channel: p.channel, offset: p.offset, data: p.data, recovered });
  });
  sub.on('subscribed', (e) => {
    const at = e.position ? ` at offset ${e.position.offset}` : '';
    if (e.recovered === true) {
      on.notice({ kind: 'recovered', count: missed, text: missed ? `Recovered ${missed} missed message${missed === 1 ? '' : 's'}` : 'Reconnected: nothing was missed' });
    } else if (e.recovered === false) {
      on.notice({ kind: 'not-recovered', text: `Could not recover: the channel's history lacks the gap${at}. Reload this channel's state from your backend.` });
    } else on.notice({ kind: 'subscribed', text: `Subscribed to ${e.channel}${at}` });
    missed = 0;
  });
  sub.on('error', (e) => on.notice({ kind: 'refused', text: `Subscribing to ${channel} was refused: ${e.message} (error ${e.code})` }));

  return {
    herald,
    subscription: sub,
    get state() {
      return state;
    },
    /** Opens the connection; the SDK does nothing while one is open or reconnecting. */
    connect() {
      if (state !== 'disconnected') return;
      attempt = 0;
      lastClose = lastError = undefined;
      userClosed = false;
      herald.connect();
    },
    /** Closes the connection and stops reconnecting; the subscription keeps its position for the next connect. */
    disconnect() {
      lastClose = closedByUser;
      userClosed = true;
      herald.disconnect();
    },
  };
}
