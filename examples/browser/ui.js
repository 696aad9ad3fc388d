// The page around app.js: reads the form, draws statuses, messages and notices. No framework, no build step.
import { plainClient, nativeClient, fetchToken } from './app.js';

const $ = (id) => document.getElementById(id);

/** Creates an element with a class and text (or children). */
function el(tag, className, content) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (Array.isArray(content)) node.append(...content.filter(Boolean));
  else if (content !== undefined) node.textContent = content;
  return node;
}

const time = (d) => d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const scalar = (v) => (typeof v === 'string' ? v : JSON.stringify(v));

/** A publication's data, readable: a title and body when it has them, then its other fields as a list. */
function renderData(data) {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return el('p', 'text', scalar(data));
  const parts = [];
  const { title, body, ...rest } = data;
  if (title !== undefined) parts.push(el('p', 'title', scalar(title)));
  if (body !== undefined) parts.push(el('p', 'text', scalar(body)));
  const keys = Object.keys(rest);
  if (keys.length) {
    parts.push(el('dl', 'fields-list', keys.flatMap((k) => [el('dt', '', k), el('dd', '', scalar(rest[k]))])));
  }
  if (!parts.length) parts.push(el('p', 'text muted', 'empty object'));
  return el('div', 'data', parts);
}

/** Adds a message card at the top of the feed: time, where it came from, offset, data, raw JSON on demand. */
function addMessage(feed, m) {
  // 'other': a publication to no subscribed channel (a `where` match, or the user's when inboxes are off).
  const source = m.kind === 'inbox' ? 'inbox' : m.kind === 'where' ? 'where match' : m.channel ?? 'where or user';
  const head = el('div', 'card-head', [
    el('span', `chip chip-${m.kind}`, source),
    m.offset !== undefined ? el('span', 'offset', `#${m.offset}`) : null,
    m.recovered ? el('span', 'badge', 'recovered') : null,
    el('time', 'time', time(m.time)),
  ]);
  const raw = el('details', 'raw', [el('summary', '', 'Raw JSON'), el('pre', '', m.raw ?? JSON.stringify(m.data, null, 2))]);
  const card = el('li', 'card', [head, renderData(m.data), raw]);
  card.dataset.kind = m.kind;
  if (m.offset !== undefined) card.dataset.offset = String(m.offset);
  if (m.recovered) card.dataset.recovered = 'true';
  feed.prepend(card);
}

/** Adds a one-line notice (subscribed, recovered, refused...) at the top of the feed. */
function addNotice(feed, n) {
  const item = el('li', `notice notice-${n.kind}`, [el('span', 'notice-text', n.text), el('time', 'time', time(new Date()))]);
  item.dataset.kind = n.kind;
  feed.prepend(item);
}

const stateTitles = { connecting: 'Connecting…', connected: 'Connected', reconnecting: 'Reconnecting', disconnected: 'Disconnected' };

/** Draws a client's status; while reconnecting, counts down to the next attempt. */
function statusView(box) {
  let ticker;
  return (s) => {
    clearInterval(ticker);
    box.dataset.state = s.state;
    // A close the user did not ask for is shown as a failure, with its reason.
    box.dataset.tone = s.state === 'disconnected' && s.close && s.close.code !== 1000 ? 'error' : '';
    const stateEl = box.querySelector('.state');
    const detail = box.querySelector('.detail');
    stateEl.textContent = stateTitles[s.state];
    if (s.state === 'connecting') {
      detail.textContent = s.attempt ? `attempt ${s.attempt + 1}` : 'opening the WebSocket';
    } else if (s.state === 'connected') {
      const attrs = s.attrs && Object.entries(s.attrs).map(([k, v]) => `${k} ${v}`).join(', ');
      detail.textContent = s.user ? `as user ${s.user}` : attrs ? `as ${attrs}` : 'anonymous';
    } else if (s.state === 'reconnecting') {
      const tick = () => {
        const seconds = Math.max(0, Math.ceil((s.retryAt - Date.now()) / 1000));
        stateEl.textContent = `Reconnecting ${s.upTo ? 'within' : 'in'} ${seconds} s`;
      };
      tick();
      ticker = setInterval(tick, 250);
      detail.textContent = s.close.text;
    } else detail.textContent = s.close ? s.close.text : '';
  };
}

/** The HTTP address of the server whose WebSocket address is `url`, for the curl commands. */
function httpBase(url) {
  try {
    const u = new URL(url);
    return `${u.protocol === 'wss:' ? 'https' : 'http'}://${u.host}`;
  } catch {
    return 'http://127.0.0.1:6552';
  }
}

function updateCommands() {
  const api = `${httpBase($('url').value)}/api/publish`;
  const school = $('school').value || '2';
  const where = JSON.stringify({ where: { school_id: school }, data: { title: 'Hello class', body: 'Maths moved to room 12' } });
  $('plain-try').textContent = `curl -X POST ${api} \\\n  -d '${where}'`;
  const channel = $('channel').value || 'notifications#42';
  const user = channel.includes('#') ? channel.slice(channel.lastIndexOf('#') + 1).split(',')[0] : '42';
  $('native-try').textContent =
    `# to the channel\ncurl -X POST ${api} \\\n  -d '${JSON.stringify({ channel, data: { title: 'Order shipped', order: 1001 } })}'\n` +
    `# to the user's inbox\ncurl -X POST ${api} \\\n  -d '${JSON.stringify({ user, data: { title: 'New message from Ana' } })}'`;
}

/**
 * Wires a Connect/Disconnect button to a client made by `create`. One client at a time: Connect makes a new one
 * only when the previous one is disconnected, and the second click of a double click is ignored (it would close
 * the connection the first one opened).
 */
function wire(prefix, create) {
  const form = $(`${prefix}-form`);
  const button = $(`${prefix}-toggle`);
  const feed = $(`${prefix}-feed`);
  const inputs = [...form.querySelectorAll('input')];
  const drawStatus = statusView($(`${prefix}-status`));
  let client;
  const onStatus = (s) => {
    drawStatus(s);
    const idle = s.state === 'disconnected';
    button.textContent = idle ? 'Connect' : 'Disconnect';
    button.classList.toggle('danger', !idle);
    // What a client was opened with stays as it was while it is open.
    for (const input of inputs) input.disabled = !idle;
    $('url').disabled = [plain, native].some((c) => c && c.state && c.state !== 'disconnected');
  };
  const on = {
    status: onStatus,
    message: (m) => addMessage(feed, m),
    notice: (n) => addNotice(feed, n),
    error: (text) => addNotice(feed, { kind: 'error', text }),
  };
  button.addEventListener('click', (e) => {
    if (e.detail > 1) e.preventDefault(); // a click's `detail` counts the clicks in a row
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (client && client.state !== 'disconnected') client.disconnect();
    else {
      client = create(on);
      client.connect();
    }
  });
  return { get state() { return client?.state; } };
}

let plain;
let native;
const params = new URLSearchParams(location.search);
if (params.get('herald')) $('url').value = params.get('herald');
for (const id of ['url', 'school', 'channel']) $(id).addEventListener('input', updateCommands);
updateCommands();

plain = wire('plain', (on) => plainClient($('url').value.trim(), { school_id: $('school').value, school_class_id: $('class').value }, on));
// Each Connect makes a new client with what the form says now; the channel's position carries over from the previous
// client of the same server and channel, so what was published while disconnected is recovered.
let previous;
native = wire('native', (on) => {
  const pasted = $('token').value.trim();
  const url = $('url').value.trim();
  const channel = $('channel').value.trim();
  const since = previous && previous.url === url && previous.channel === channel ? previous.client.subscription.position : undefined;
  const getToken = pasted ? async () => pasted : () => fetchToken();
  const client = nativeClient(url, { getToken, channel, since, debug: params.has('debug') }, on);
  previous = { url, channel, client };
  return client;
});
