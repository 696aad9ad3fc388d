// notify: a WeChat mini-program page listing the user's notifications, pushed by Herald on the personal channel
// `notifications#<userId>` over wx.connectSocket (the SDK's wxTransport).
//
// Use: copy pages/notify/ (notify.js, notify-logic.js, notify.wxml) into your mini-program, add "pages/notify/notify"
// to app.json, install the SDK (npm install /path/to/herald/sdk/js/herald-client-0.1.0.tgz, then Tools > Build npm),
// and add the Herald host to the socket legal domains (socket 合法域名; wss:// in production).
// examples/test.sh runs notify-logic.js against a real Herald with a fake `wx`.
const { startNotify, wxGetToken } = require('./notify-logic.js');

const HERALD_URL = 'wss://push.example.com/';
const TOKEN_URL = 'https://api.example.com/herald-token';

Page({
  data: { list: [] },

  onLoad(query) {
    this.stop = startNotify({
      wx,
      url: HERALD_URL,
      userId: query.user || wx.getStorageSync('userId'),
      getToken: wxGetToken(wx, TOKEN_URL),
      onChange: (list) => this.setData({ list }),
    });
  },

  onUnload() {
    if (this.stop) this.stop();
  },
});
