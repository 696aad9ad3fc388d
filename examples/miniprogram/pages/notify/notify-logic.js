// The logic of the notify page, without the mini-program runtime: Herald through wx.connectSocket (wxTransport),
// the user's personal channel `notifications#<user>`, and a toast per notification. examples/test.sh runs it in
// Node with a fake `wx`. CommonJS, as mini-programs use.
const { Herald, wxTransport } = require('herald-client'); // after "Build npm" (构建 npm), or copy dist/index.cjs

/** Asks your backend for a connection token with wx.request; it answers {"token": "..."}. */
function wxGetToken(wx, tokenUrl) {
  return () => new Promise((ok, fail) => wx.request({ url: tokenUrl, success: (r) => ok(r.data.token), fail }));
}

/** Connects, subscribes, and calls onChange(list) with the notifications so far (newest first). Returns stop(). */
function startNotify({ wx, url, userId, getToken, onChange }) {
  const herald = new Herald(url, { transport: wxTransport(wx), getToken });
  let list = [];
  const sub = herald.subscribe('notifications#' + userId);
  sub.on('publication', (p) => {
    list = [p.data, ...list].slice(0, 50);
    onChange(list);
    wx.showToast({ title: String(p.data.title || 'New notification'), icon: 'none' });
  });
  herald.connect();
  return async () => {
    await sub.unsubscribe().catch(() => {}); // already gone if the connection is down
    herald.disconnect();
  };
}

module.exports = { startNotify, wxGetToken };
