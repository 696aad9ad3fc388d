#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target (fuzz/corpus/<target>/). Each seed is small and stands for one
meaningful case: a valid input of each kind, and the edge cases each parser must refuse. The inputs fuzzing found
(found-*, at the end) are the crashes AFL++ or the mutation smoke reported, cut down by hand to what triggers them;
an unminimised crash file may also be dropped in as found-<what> directly. This script never deletes a file. Run it
after changing a seed."""
import hashlib, hmac, os, struct, base64

HERE = os.path.dirname(os.path.abspath(__file__))
MASK = b"\x37\xfa\x21\x3d"


def write(target, name, data):
    folder = os.path.join(HERE, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def frame(payload, opcode=1, fin=True, masked=True, rsv=0, length=None):
    """A client frame (RFC 6455 5.2); length overrides the encoded length."""
    payload = payload.encode() if isinstance(payload, str) else payload
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | rsv | opcode
    if n <= 125:
        head = bytes([b0, (0x80 if masked else 0) | n])
    elif n <= 0xFFFF:
        head = bytes([b0, (0x80 if masked else 0) | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, (0x80 if masked else 0) | 127]) + struct.pack(">Q", n)
    if not masked:
        return head + payload
    return head + MASK + bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))


# websocket: client bytes after the upgrade
w = lambda name, data: write("websocket", name, data)
w("text-attributes", frame('{"school_id":"2","class_id":"1"}'))
w("text-ping", frame("ping"))
w("native-session", frame('{"id":1,"method":"connect","params":{"attrs":{"school_id":"2"}}}')
  + frame('{"id":2,"method":"subscribe","params":{"channel":"news"}}') + frame('{"method":"pong"}'))
w("fragmented-with-ping", frame('{"school', fin=False) + frame("hi", opcode=9) + frame('_id":"2"}', opcode=0))
w("fragmented-utf8-split", frame('{"name":"\xe4'.encode("latin-1").replace(b"\xe4", "ä".encode()[:1]), fin=False)
  + frame("ä".encode()[1:] + b'"}', opcode=0))
w("ping-pong", frame(b"payload", opcode=9) + frame(b"", opcode=10))
w("close-normal", frame(struct.pack(">H", 1000) + "bye ✓".encode(), opcode=8))
w("close-empty", frame(b"", opcode=8))
w("close-one-byte", frame(b"\x03", opcode=8))
w("close-reserved-code", frame(struct.pack(">H", 1005), opcode=8))
w("close-reason-bad-utf8", frame(struct.pack(">H", 1000) + b"\xc3\x28", opcode=8))
w("binary", frame(b"\x00\x01\x02", opcode=2))
w("length-16bit", frame('{"k":"' + "v" * 200 + '"}'))
w("length-64bit-huge", frame(b"", length=0x7FFFFFFFFFFFFFFF))
w("length-64bit-over-limit", frame(b"x" * 40, length=70000))
w("unmasked", frame("ping", masked=False))
w("reserved-bit", frame("ping", rsv=0x40))
w("text-invalid-utf8", frame(b'{"k":"\xff"}'))
w("continuation-first", frame("ping", opcode=0))
w("new-message-inside-fragments", frame("pi", fin=False) + frame("ng"))
w("control-fragmented", frame(b"", opcode=9, fin=False))
w("control-too-long", frame(b"x" * 126, opcode=9))
w("unknown-opcode", frame(b"", opcode=3) + frame(b"", opcode=11))
w("half-header", frame("ping")[:5])

# upgrade: the first bytes of a connection on the WebSocket port
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
def head(lines, target="/", version="HTTP/1.1"):
    return f"GET {target} {version}\r\n" + "".join(l + "\r\n" for l in lines) + "\r\n"
base = ["Host: 127.0.0.1:6552", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13", f"Sec-WebSocket-Key: {KEY}"]
u = lambda name, data: write("upgrade", name, data)
u("plain", head(base))
u("native-origin", head(base + ["Sec-WebSocket-Protocol: chat, herald.v1", "Origin: https://example.com"], "/ws?token=abc.def.ghi"))
u("lowercase-keep-alive", head([l.lower() for l in base[:2]] + ["connection: keep-alive, Upgrade"] + base[3:]))
u("incomplete", head(base)[:-2])
u("post-api", "POST /api/publish HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
u("duplicate-host", head(base + ["Host: other"]))
u("obs-fold", head(base + ["X-Folded: a", " b"]))
u("short-key", head(base[:4] + ["Sec-WebSocket-Key: dGhlIHNhbXBsZQ=="]))
u("api-path", head(base, "/api/ws"))
u("percent-path", head(base, "/%2e%2e/ws"))
u("dot-segment", head(base, "/a/../ws"))
u("http10", head(base, "/", "HTTP/1.0"))
u("body-header", head(base + ["Content-Length: 0"]))
u("non-ascii", head(base + ["X-Name: caf\u00e9"]).encode("latin-1"))
u("bare-lf", head(base).replace("\r\nUpgrade", "\nUpgrade"))
u("space-before-colon", head(base + ["Origin : x"]))
u("version-8", head(base[:3] + ["Sec-WebSocket-Version: 8", base[4]]))
u("http2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
u("short-prefix", b"GE")

# native: one herald.v1 command
n = lambda name, data: write("native", name, data)
n("connect", '{"id":1,"method":"connect","params":{"attrs":{"school_id":"2"},"name":"web"}}')
n("connect-since", '{"id":1,"method":"connect","params":{"since":{"orders#42":{"offset":2,"epoch":"c3d14e0b"}}}}')
n("subscribe", '{"id":2,"method":"subscribe","params":{"channel":"news"}}')
n("subscribe-since", '{"id":2,"method":"subscribe","params":{"channel":"news","since":{"offset":0,"epoch":""}}}')
n("unsubscribe", '{"id":3,"method":"unsubscribe","params":{"channel":"news"}}')
n("publish", '{"id":4,"method":"publish","params":{"channel":"news","data":{"text":"hi"}}}')
n("attrs", '{"id":5,"method":"attrs","params":{"attrs":{"school_id":"3","n":1,"b":true}}}')
n("presence", '{"id":6,"method":"presence","params":{"channel":"news","limit":2,"cursor":"x"}}')
n("presence-stats", '{"id":7,"method":"presence_stats","params":{"channel":"news"}}')
n("inbox-ack", '{"id":8,"method":"inbox_ack","params":{"offset":3}}')
n("refresh", '{"id":9,"method":"refresh","params":{"token":"a.b.c"}}')
n("ping", '{"id":10,"method":"ping"}')
n("pong", '{"method":"pong"}')
n("unknown-method", '{"id":11,"method":"launch"}')
n("method-number", '{"id":15,"method":5}')
n("id-zero", '{"id":0,"method":"ping"}')
n("id-too-big", '{"id":18446744073709551616,"method":"ping"}')
n("params-array", '{"id":12,"method":"subscribe","params":["news"]}')
n("trailing-garbage", '{"id":13,"method":"ping"} x')
n("not-json", "hello")
n("deep", '{"id":14,"method":"subscribe","params":' + "[" * 70 + "]" * 70 + "}")
n("channel-bad-name", '{"id":16,"method":"subscribe","params":{"channel":"bad name"}}')
n("escaped-method", '{"id":17,"method":"p\\u0069ng"}')

# plain: a plain client's message
p = lambda name, data: write("plain", name, data)
p("attributes", '{"school_id":"2","school_class_id":"1"}')
p("numbers-booleans", '{"n":2,"f":-1.5e3,"t":true,"x":false}')
p("ping", " ping\n")
p("empty-object", "{}")
p("nested-value", '{"k":{"a":1}}')
p("null-value", '{"k":null}')
p("array", '["school_id"]')
p("empty-key", '{"":"v"}')
p("long-value", '{"k":"' + "v" * 1100 + '"}')
p("too-many", "{" + ",".join(f'"k{i}":"{i}"' for i in range(40)) + "}")
p("duplicate-key", '{"k":"1","k":"2"}')
p("escapes", '{"k\\u00e9":"\\u4e2d\\n\\ud83d\\ude00"}')
p("trailing", '{"k":"v"}{')
p("truncated", '{"k":"v"')

# publish: a publish body (HTTP and UDP)
b = lambda name, data: write("publish", name, data)
b("channel", '{"channel":"news","data":{"text":"hi"}}')
b("channels-users", '{"channels":["news","sport"],"users":["42","43"],"data":"plain text","idempotency_key":"k1"}')
b("user", '{"user":"42","data":{"order":1}}')
b("where", '{"where":{"school_id":"2","class":["1","2",3,true]},"data":{"n":1}}')
b("where-all", '{"where":{},"data":1}')
b("no-target", '{"data":1}')
b("no-data", '{"channel":"news"}')
b("empty-user", '{"user":"","where":{},"data":1}')
b("bad-channel", '{"channel":"bad name","data":1}')
b("where-nested", '{"where":{"k":{"a":1}},"data":1}')
b("where-twice", '{"where":{"k":"1","k":"2"},"data":1}')
b("idempotency-long", '{"channel":"news","idempotency_key":"' + "k" * 300 + '","data":1}')
b("unknown-field", '{"channel":"news","v":{"x":[1,2]},"data":null}')
b("data-deep", '{"channel":"news","data":' + "[" * 70 + "]" * 70 + "}")
b("escaped-names", '{"channel":"n\\u0065ws","user":"4\\u0032","data":"\\u00e9"}')
b("not-object", "[1,2]")
b("event", '{"channel":"news","event":"App\\\\Events\\\\Order|Paid","data":{"n":1}}')
b("event-bad", '{"where":{},"event":"a\\u200bb","data":1}')

# udp: the same bodies as datagrams, for the ingress without and with udp_secret
SECRET = b"herald-fuzz-udp-secret"
for name in ("channel", "user", "where", "no-target", "channels-users"):
    with open(os.path.join(HERE, "publish", name), "rb") as f:
        body = f.read()
    write("udp", name, body)
    write("udp-signed", name, body)  # the harness signs it
    write("udp-signed", name + "-presigned", b"sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest().encode() + b"\n" + body)
write("udp", "signature-line-without-secret", b"sha256=" + b"0" * 64 + b'\n{"channel":"news","data":1}')
write("udp", "empty", b"")
write("udp-signed", "wrong-signature", b"sha256=" + b"0" * 64 + b'\n{"channel":"news","data":1}')
write("udp-signed", "upper-hex", b"sha256=" + hmac.new(SECRET, b'{"channel":"news","data":1}', hashlib.sha256).hexdigest().upper().encode() + b'\n{"channel":"news","data":1}')
write("udp-signed", "not-hex", b"sha256=" + b"zz" * 32 + b'\n{"channel":"news","data":1}')
write("udp-signed", "no-newline", b"sha256=" + b"0" * 64 + b'{"channel":"news","data":1}')
write("udp-signed", "prefix-only", b"sha256=")

# token: a JWT payload the harness signs (starts with {), or the token text itself
t = lambda name, data: write("token", name, data)
t("claims", '{"sub":"42","exp":4102444800,"attrs":{"school_id":"2"},"channels":["orders#42"],"info":{"name":"Ann"}}')
t("anonymous", '{"iat":1700000000}')
t("subscription-token", '{"sub":"42","channel":"orders#42","exp":4102444800}')
t("expired", '{"sub":"42","exp":1}')
t("not-before", '{"sub":"42","nbf":4102444800}')
t("exp-fraction", '{"sub":"42","exp":4102444800.5}')
t("exp-null", '{"sub":"42","exp":null}')
t("sub-number", '{"sub":42}')
t("attrs-array", '{"sub":"42","attrs":["a"]}')
t("attrs-nested", '{"sub":"42","attrs":{"k":{"a":1}}}')
t("channels-mixed", '{"sub":"42","channels":["a",1]}')
t("channels-bad-name", '{"sub":"42","channels":["bad name","ok"]}')
t("aud-iss", '{"sub":"42","aud":["x","y"],"iss":"me"}')
t("payload-array", '{}')
t("not-a-jwt", "not a token")
t("two-parts", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9")
t("alg-none", base64.urlsafe_b64encode(b'{"alg":"none"}').decode().rstrip("=") + "." + base64.urlsafe_b64encode(b'{"sub":"42"}').decode().rstrip("=") + ".")
t("bad-signature", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJl")

# found-*: what fuzzing found (docs/security.md, "Fuzzing", lists each with its symptom).
# Strings the JSON reader cannot turn into .NET strings: invalid UTF-8 bytes, and \u escapes of a lone surrogate.
n("found-lone-surrogate-method", '{"id":7,"method":"\\ud800"}')
n("found-invalid-utf8-method", b'{"id":7,"method":"subs\xc4ribe"}')
n("found-lone-surrogate-channel", '{"id":7,"method":"subscribe","params":{"channel":"bd mam\\udc00e"}}')
n("found-lone-surrogate-param-name", '{"id":7,"method":"connect","params":{"si\\udc00nce":{"o":{"offset":2,"epoch":"e"}}}}')
n("found-lone-surrogate-field-name", '{"i\\ud800d":7,"method":"ping"}')
p("found-lone-surrogate-value", '{"k":"\\ud800"}')
p("found-invalid-utf8-key", b'{"k":"1","\xfa":"2"}')
b("found-lone-surrogate-channel", '{"channel":"\\ud800","data":1}')
b("found-invalid-utf8-channel", b'{"channel":"new\x90","data":[]}')
b("found-invalid-utf8-data", b'{"user":"42","data":"hi\xff"}')
b("found-lone-surrogate-data", '{"channel":"news","data":"\\ud800"}')
b("found-invalid-utf8-where", b'{"where":{"school_id":"\xff"},"data":1}')
write("udp", "found-invalid-utf8-data", b'{"channel":"news","data":{"text":"\x80i"}}')
write("udp", "found-lone-surrogate-channel", '{"channel":"\\ud800","data":1}')
write("udp-signed", "found-invalid-utf8-channel", b'{"channel":"new\xf3","data":1}')
t("found-exp-year-10000", '{"sub":"42","exp":253402300800}')
t("found-exp-2-pow-53", '{"sub":"42","exp":9007199254740993}')
t("found-exp-string", '{"sub":"42","exp":"4102444800"}')
t("found-payload-trailing-data", '{}{}{}{}{}')
# Anyone can send this one: a five-part (JWE-shaped) token whose parts are not base64url threw FormatException out of
# the verifier (fixed: refused as malformed).
t("found-five-parts-not-base64url", "eyJhbGciOiJIUzI1NiJ9.a.b.c.d")
