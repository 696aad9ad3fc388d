"""Herald publishing SDK for Python: HTTP API, UDP ingress and HS256 tokens, standard library only.

    from herald_client import HeraldClient
    herald = HeraldClient("http://127.0.0.1:6552", api_key="change-me")
    herald.publish({"user": "42", "data": {"approve": 1001}})           # HTTP, returns the reply
    herald.push({"where": {"school_id": "2"}, "data": {"order": 42}})   # UDP, fire and forget
"""

import base64
import hashlib
import hmac
import http.client
import json
import socket
import time
import urllib.parse

__all__ = ["HeraldClient", "HeraldError", "connection_token", "subscription_token", "MAX_DATAGRAM"]

#: The largest UDP payload over IPv4; Herald drops larger datagrams (and those above max_message_size).
MAX_DATAGRAM = 65507


class HeraldError(Exception):
    """An error answered by the HTTP API: `code` is Herald's error code, `status` the HTTP status."""

    def __init__(self, code, message, status):
        super().__init__("herald error %s (HTTP %s): %s" % (code, status, message))
        self.code = code
        self.message = message
        self.status = status


def _encode(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _mint(secret, claims):
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    header = _b64url(_encode({"alg": "HS256", "typ": "JWT"}))
    payload = _b64url(_encode(claims))
    signing_input = (header + "." + payload).encode("ascii")
    signature = _b64url(hmac.new(secret, signing_input, hashlib.sha256).digest())
    return header + "." + payload + "." + signature


def connection_token(secret, user=None, ttl=3600, attrs=None, channels=None, info=None, now=None, **extra):
    """An HS256 connection token. `user` becomes `sub` (a string); `ttl` seconds, 0 or None for no `exp`."""
    now = int(time.time() if now is None else now)
    claims = {"iat": now}
    if user is not None:
        claims["sub"] = str(user)
    if ttl:
        claims["exp"] = now + int(ttl)
    if attrs:
        claims["attrs"] = attrs
    if channels:
        claims["channels"] = list(channels)
    if info is not None:
        claims["info"] = info
    claims.update(extra)
    return _mint(secret, claims)


def subscription_token(secret, channel, user=None, ttl=300, now=None):
    """An HS256 subscription token for one private channel (claim `channel`), short-lived by default."""
    return connection_token(secret, user=user, ttl=ttl, now=now, channel=channel)


class HeraldClient:
    """A client of one Herald server. It keeps one HTTP connection alive between calls, so it is not thread-safe:
    give each thread its own client."""

    def __init__(self, url="http://127.0.0.1:6552", api_key=None, udp_host="127.0.0.1", udp_port=6553,
                 udp_secret=None, token_secret=None, timeout=5.0):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https"):
            raise ValueError("url must start with http:// or https://, got %r" % url)
        self._scheme = parsed.scheme
        self._host = parsed.hostname
        self._port = parsed.port or (443 if parsed.scheme == "https" else 80)
        self._prefix = parsed.path.rstrip("/")
        self.api_key = api_key
        self.udp_address = (udp_host, udp_port)
        self.udp_secret = udp_secret
        self.token_secret = token_secret
        self.timeout = timeout
        self._http = None
        self._udp = None

    # ---- HTTP ----

    def call(self, method, params=None):
        """Calls POST /api/<method> with a JSON object of parameters and returns the parsed reply."""
        body = _encode({} if params is None else params)
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["X-API-Key"] = self.api_key
        path = self._prefix + "/api/" + method
        while True:
            reused = self._http is not None
            connection = self._connection()
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                raw = response.read()
                break
            except (http.client.RemoteDisconnected, http.client.BadStatusLine, BrokenPipeError,
                    ConnectionResetError):
                # The server closed the idle kept-alive connection between calls: retry once on a fresh one.
                # (A fresh connection that fails is not retried, so a request is never sent twice by accident.)
                self.close_http()
                if not reused:
                    raise
            except Exception:
                self.close_http()
                raise
        if response.getheader("Connection", "").lower() == "close":
            self.close_http()
        reply = None
        try:
            reply = json.loads(raw.decode("utf-8")) if raw else None
        except ValueError:
            pass
        if 200 <= response.status < 300:
            if reply is None and raw:
                raise HeraldError(0, "the reply is not JSON: %r" % raw[:200], response.status)
            return {} if reply is None else reply
        error = reply.get("error") if isinstance(reply, dict) else None
        if isinstance(error, dict):
            raise HeraldError(error.get("code", 0), error.get("message", ""), response.status)
        raise HeraldError(0, "HTTP %d %s %s" % (response.status, response.reason, raw[:200].decode("utf-8", "replace")),
                          response.status)

    def _connection(self):
        if self._http is None:
            cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
            self._http = cls(self._host, self._port, timeout=self.timeout)
        return self._http

    def close_http(self):
        if self._http is not None:
            self._http.close()
            self._http = None

    def publish(self, message):
        """Publishes one message (`channel`/`channels`/`user`/`users`/`where`, `data`, `idempotency_key`) over HTTP.
        Returns the reply: `recipients`, and `offset`/`epoch`, `channels`, `inbox`, `duplicate` when present."""
        return self.call("publish", message)

    def publish_batch(self, messages):
        """Publishes several messages over one kept-alive HTTP connection; returns their replies in order.
        Stops at the first error (HeraldError). For many fire-and-forget messages, `push_batch` is cheaper."""
        return [self.publish(message) for message in messages]

    def to_channel(self, channel, data, idempotency_key=None):
        return self.publish(_message("channel", channel, data, idempotency_key))

    def to_channels(self, channels, data, idempotency_key=None):
        return self.publish(_message("channels", list(channels), data, idempotency_key))

    def to_user(self, user, data, idempotency_key=None):
        return self.publish(_message("user", str(user), data, idempotency_key))

    def to_users(self, users, data, idempotency_key=None):
        return self.publish(_message("users", [str(u) for u in users], data, idempotency_key))

    def to_where(self, where, data, idempotency_key=None):
        return self.publish(_message("where", where, data, idempotency_key))

    def history(self, channel, limit=None, since=None, newest_first=None):
        """A channel's history: `{"offset","epoch","publications":[{"offset","time","data"},...]}`. `since` is an
        offset or `{"offset":N,"epoch":"E"}`."""
        return self.call("history", _params(channel=channel, limit=limit, since=since, newest_first=newest_first))

    def history_remove(self, channel):
        return self.call("history_remove", {"channel": channel})

    def inbox(self, user, since=None, limit=None):
        return self.call("inbox", _params(user=str(user), since=since, limit=limit))

    def inbox_ack(self, user, offset):
        return self.call("inbox_ack", {"user": str(user), "offset": offset})

    def inbox_delete(self, user, offset=None):
        return self.call("inbox_delete", _params(user=str(user), offset=offset))

    def online(self, users):
        return self.call("online", {"users": [str(u) for u in users]})

    def presence(self, channel, limit=None, cursor=None):
        return self.call("presence", _params(channel=channel, limit=limit, cursor=cursor))

    def presence_stats(self, channel):
        return self.call("presence_stats", {"channel": channel})

    def channels(self, prefix=None, limit=None, cursor=None):
        return self.call("channels", _params(prefix=prefix, limit=limit, cursor=cursor))

    def count(self, where, list=None, limit=None, cursor=None):
        return self.call("count", _params(where=where, list=list, limit=limit, cursor=cursor))

    def disconnect(self, user=None, client=None, code=None, reason=None, reconnect=None):
        """Closes a user's connections (or one connection by `client` id); returns `{"disconnected":N}`."""
        return self.call("disconnect", _params(user=None if user is None else str(user), client=client, code=code,
                                               reason=reason, reconnect=reconnect))

    def subscribe(self, channel, user=None, client=None):
        return self.call("subscribe", _params(user=None if user is None else str(user), client=client, channel=channel))

    def unsubscribe(self, channel, user=None, client=None):
        return self.call("unsubscribe", _params(user=None if user is None else str(user), client=client,
                                                channel=channel))

    def attributes(self, attrs, user=None, client=None):
        return self.call("attributes", _params(user=None if user is None else str(user), client=client, attrs=attrs))

    def info(self):
        return self.call("info")

    # ---- UDP ----

    def push(self, message):
        """Sends one message as a UDP datagram: no reply, no delivery guarantee. Signed when `udp_secret` is set.
        Raises ValueError when the datagram would exceed 65,507 bytes (Herald would drop it)."""
        datagram = self.datagram(message)
        if self._udp is None:
            self._udp = socket.socket(socket.AF_INET6 if ":" in self.udp_address[0] else socket.AF_INET,
                                      socket.SOCK_DGRAM)
        self._udp.sendto(datagram, self.udp_address)

    def push_batch(self, messages):
        """Sends each message as its own datagram: the cheap way to publish many messages."""
        for message in messages:
            self.push(message)

    def datagram(self, message):
        """The exact bytes `push` sends: the JSON body, preceded by `sha256=<hex>\\n` when `udp_secret` is set."""
        body = _encode(message)
        if self.udp_secret:
            secret = self.udp_secret.encode("utf-8") if isinstance(self.udp_secret, str) else self.udp_secret
            body = b"sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest().encode("ascii") + b"\n" + body
        if len(body) > MAX_DATAGRAM:
            raise ValueError("datagram of %d bytes exceeds %d: publish it over HTTP" % (len(body), MAX_DATAGRAM))
        return body

    # ---- tokens ----

    def connection_token(self, user=None, ttl=3600, attrs=None, channels=None, info=None):
        return connection_token(self._secret(), user=user, ttl=ttl, attrs=attrs, channels=channels, info=info)

    def subscription_token(self, channel, user=None, ttl=300):
        return subscription_token(self._secret(), channel, user=user, ttl=ttl)

    def _secret(self):
        if not self.token_secret:
            raise ValueError("no token_secret: pass HeraldClient(token_secret=...) with Herald's token_secret")
        return self.token_secret

    def close(self):
        self.close_http()
        if self._udp is not None:
            self._udp.close()
            self._udp = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _message(kind, target, data, idempotency_key):
    message = {kind: target, "data": data}
    if idempotency_key is not None:
        message["idempotency_key"] = idempotency_key
    return message


def _params(**params):
    return {key: value for key, value in params.items() if value is not None}
