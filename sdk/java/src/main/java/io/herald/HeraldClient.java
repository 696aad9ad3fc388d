package io.herald;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Herald publishing client: the HTTP API (java.net.http, one kept-alive connection pool), UDP ingress (fire and
 * forget, signed when a UDP secret is set) and HS256 connection and subscription tokens. JDK 11+, no dependencies.
 * Thread-safe. Replies are parsed by {@link Json}: objects are Maps, arrays Lists, integers Longs.
 */
public final class HeraldClient implements AutoCloseable {
    /** The largest UDP payload over IPv4; Herald drops larger datagrams. */
    public static final int MAX_DATAGRAM = 65507;

    private final URI base;
    private final String apiKey;
    private final String udpHost;
    private final int udpPort;
    private final byte[] udpSecret;
    private final byte[] tokenSecret;
    private final Duration timeout;
    private final HttpClient http;
    private DatagramSocket udp;

    private HeraldClient(Builder builder) {
        String url = builder.url.endsWith("/") ? builder.url : builder.url + "/";
        this.base = URI.create(url);
        this.apiKey = builder.apiKey;
        this.udpHost = builder.udpHost;
        this.udpPort = builder.udpPort;
        this.udpSecret = bytes(builder.udpSecret);
        this.tokenSecret = bytes(builder.tokenSecret);
        this.timeout = builder.timeout;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout).build();
    }

    /** A client of the Herald at {@code url}, such as {@code http://127.0.0.1:6552}. */
    public static Builder builder(String url) {
        return new Builder(url);
    }

    /** Options of a {@link HeraldClient}. */
    public static final class Builder {
        private final String url;
        private String apiKey;
        private String udpHost = "127.0.0.1";
        private int udpPort = 6553;
        private String udpSecret;
        private String tokenSecret;
        private Duration timeout = Duration.ofSeconds(5);

        private Builder(String url) {
            this.url = url;
        }

        public Builder apiKey(String apiKey) {
            this.apiKey = apiKey;
            return this;
        }

        public Builder udp(String host, int port) {
            this.udpHost = host;
            this.udpPort = port;
            return this;
        }

        /** Herald's udp_secret: every datagram is then signed. */
        public Builder udpSecret(String secret) {
            this.udpSecret = secret;
            return this;
        }

        /** Herald's token_secret, for {@link #connectionToken} and {@link #subscriptionToken}. */
        public Builder tokenSecret(String secret) {
            this.tokenSecret = secret;
            return this;
        }

        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        public HeraldClient build() {
            return new HeraldClient(this);
        }
    }

    // ---- HTTP ----

    /**
     * Calls {@code POST /api/<method>} with a map of parameters and returns the parsed reply.
     * @throws HeraldException when Herald answers with an error
     * @throws UncheckedIOException when the server cannot be reached
     */
    public Map<String, Object> call(String method, Map<String, ?> params) {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve("api/" + method))
            .timeout(timeout)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(Json.write(params == null ? Map.of() : params)));
        if (apiKey != null && !apiKey.isEmpty()) {
            request.header("X-API-Key", apiKey);
        }
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("POST " + base + "api/" + method + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while calling " + method, e);
        }
        int status = response.statusCode();
        String raw = response.body();
        Object reply = null;
        if (raw != null && !raw.isBlank()) {
            try {
                reply = Json.parse(raw);
            } catch (IllegalArgumentException notJson) {
                throw new HeraldException(0, "the reply is not JSON: " + shorten(raw), status);
            }
        }
        if (status >= 200 && status < 300) {
            if (reply == null) {
                return new LinkedHashMap<>();
            }
            if (!(reply instanceof Map)) {
                throw new HeraldException(0, "the reply is not a JSON object: " + shorten(raw), status);
            }
            return asMap(reply);
        }
        if (reply instanceof Map && asMap(reply).get("error") instanceof Map) {
            Map<String, Object> error = asMap(asMap(reply).get("error"));
            Object code = error.get("code");
            Object message = error.get("message");
            throw new HeraldException(code instanceof Number ? ((Number) code).intValue() : 0,
                message == null ? "" : message.toString(), status);
        }
        throw new HeraldException(0, "HTTP " + status + " " + (raw == null ? "" : shorten(raw)), status);
    }

    /**
     * Publishes one message over HTTP. The reply holds {@code recipients}, and when present {@code offset}/{@code epoch},
     * {@code channels}, {@code inbox} and {@code duplicate}.
     */
    public Map<String, Object> publish(Message message) {
        return call("publish", message.toMap());
    }

    /** Publishes a body given as a map (fields channel, channels, user, users, where, data, idempotency_key). */
    public Map<String, Object> publish(Map<String, ?> message) {
        return call("publish", message);
    }

    /**
     * Publishes several messages in order, reusing the kept-alive connection; stops at the first error. For many
     * fire-and-forget messages {@link #pushBatch} over UDP is cheaper.
     */
    public List<Map<String, Object>> publishBatch(Collection<Message> messages) {
        List<Map<String, Object>> replies = new ArrayList<>();
        for (Message message : messages) {
            replies.add(publish(message));
        }
        return replies;
    }

    /** A channel's history; {@code limit}, {@code since} (a Long, or a map with offset and epoch) and {@code newestFirst} may be null. */
    public Map<String, Object> history(String channel, Integer limit, Object since, Boolean newestFirst) {
        return call("history", params("channel", channel, "limit", limit, "since", since, "newest_first", newestFirst));
    }

    public Map<String, Object> history(String channel) {
        return history(channel, null, null, null);
    }

    public Map<String, Object> historyRemove(String channel) {
        return call("history_remove", params("channel", channel));
    }

    public Map<String, Object> inbox(String user, Long since, Integer limit) {
        return call("inbox", params("user", user, "since", since, "limit", limit));
    }

    public Map<String, Object> inbox(String user) {
        return inbox(user, null, null);
    }

    public Map<String, Object> inboxAck(String user, long offset) {
        return call("inbox_ack", params("user", user, "offset", offset));
    }

    /** Deletes a user's inbox entries up to {@code offset}, or all of them when it is null. */
    public Map<String, Object> inboxDelete(String user, Long offset) {
        return call("inbox_delete", params("user", user, "offset", offset));
    }

    public Map<String, Object> online(Collection<String> users) {
        return call("online", params("users", new ArrayList<>(users)));
    }

    public Map<String, Object> presence(String channel, Integer limit, String cursor) {
        return call("presence", params("channel", channel, "limit", limit, "cursor", cursor));
    }

    public Map<String, Object> presenceStats(String channel) {
        return call("presence_stats", params("channel", channel));
    }

    public Map<String, Object> channels(String prefix, Integer limit, String cursor) {
        return call("channels", params("prefix", prefix, "limit", limit, "cursor", cursor));
    }

    public Map<String, Object> count(Map<String, ?> where, boolean list, Integer limit, String cursor) {
        return call("count", params("where", where, "list", list ? Boolean.TRUE : null, "limit", limit, "cursor", cursor));
    }

    /** Closes every connection of a user; {@code reason} may be null; {@code reconnect} false uses close code 4502. */
    public Map<String, Object> disconnect(String user, String reason, boolean reconnect) {
        return call("disconnect", params("user", user, "reason", reason, "reconnect", reconnect));
    }

    /** Closes one connection by its client id. */
    public Map<String, Object> disconnectClient(String client, String reason, boolean reconnect) {
        return call("disconnect", params("client", client, "reason", reason, "reconnect", reconnect));
    }

    public Map<String, Object> subscribe(String user, String channel) {
        return call("subscribe", params("user", user, "channel", channel));
    }

    public Map<String, Object> unsubscribe(String user, String channel) {
        return call("unsubscribe", params("user", user, "channel", channel));
    }

    public Map<String, Object> attributes(String user, Map<String, ?> attrs) {
        return call("attributes", params("user", user, "attrs", attrs));
    }

    public Map<String, Object> info() {
        return call("info", Map.of());
    }

    // ---- UDP ----

    /** Sends one message as a UDP datagram: no reply, no guarantee. Signed when a UDP secret is set. */
    public void push(Message message) {
        push(message.toMap());
    }

    public void push(Map<String, ?> message) {
        byte[] datagram = datagram(message);
        try {
            DatagramSocket socket;
            synchronized (this) {
                if (udp == null) {
                    udp = new DatagramSocket();
                }
                socket = udp;
            }
            socket.send(new DatagramPacket(datagram, datagram.length, InetAddress.getByName(udpHost), udpPort));
        } catch (IOException e) {
            throw new UncheckedIOException("could not send a datagram to " + udpHost + ":" + udpPort, e);
        }
    }

    /** Sends each message as its own datagram: the cheap way to publish many messages. */
    public void pushBatch(Collection<Message> messages) {
        for (Message message : messages) {
            push(message);
        }
    }

    /**
     * The exact bytes {@link #push} sends: the JSON body, after a {@code sha256=<hex>\n} line when a UDP secret is set.
     * @throws IllegalArgumentException when the datagram would exceed {@link #MAX_DATAGRAM} bytes
     */
    public byte[] datagram(Map<String, ?> message) {
        byte[] body = Json.write(message).getBytes(StandardCharsets.UTF_8);
        if (udpSecret != null) {
            String line = "sha256=" + hex(hmacSha256(udpSecret, body)) + "\n";
            byte[] signed = new byte[line.length() + body.length];
            System.arraycopy(line.getBytes(StandardCharsets.US_ASCII), 0, signed, 0, line.length());
            System.arraycopy(body, 0, signed, line.length(), body.length);
            body = signed;
        }
        if (body.length > MAX_DATAGRAM) {
            throw new IllegalArgumentException("datagram of " + body.length + " bytes exceeds " + MAX_DATAGRAM + ": publish it over HTTP");
        }
        return body;
    }

    // ---- tokens ----

    /** A connection token for {@code user} (null: anonymous) valid {@code ttl} (zero: no exp), signed with the token secret. */
    public String connectionToken(String user, Duration ttl, Map<String, ?> attrs, Collection<String> channels, Object info) {
        return mintToken(requireTokenSecret(), claims(user, ttl, attrs, channels, info, System.currentTimeMillis() / 1000));
    }

    /** A subscription token for one private channel. */
    public String subscriptionToken(String user, String channel, Duration ttl) {
        Map<String, Object> claims = claims(user, ttl, null, null, null, System.currentTimeMillis() / 1000);
        claims.put("channel", channel);
        return mintToken(requireTokenSecret(), claims);
    }

    /** The claims of a connection token issued at {@code now} (Unix seconds); empty attrs and channels are left out. */
    public static Map<String, Object> claims(String user, Duration ttl, Map<String, ?> attrs, Collection<String> channels, Object info, long now) {
        Map<String, Object> claims = new LinkedHashMap<>();
        if (user != null) {
            claims.put("sub", user);
        }
        claims.put("iat", now);
        if (ttl != null && !ttl.isZero()) {
            claims.put("exp", now + ttl.getSeconds());
        }
        if (attrs != null && !attrs.isEmpty()) {
            claims.put("attrs", attrs);
        }
        if (channels != null && !channels.isEmpty()) {
            claims.put("channels", new ArrayList<>(channels));
        }
        if (info != null) {
            claims.put("info", info);
        }
        return claims;
    }

    /** An HS256 JWT of any claims. */
    public static String mintToken(String secret, Map<String, ?> claims) {
        return mintToken(bytes(secret), claims);
    }

    private static String mintToken(byte[] secret, Map<String, ?> claims) {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String header = b64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        String payload = b64.encodeToString(Json.write(claims).getBytes(StandardCharsets.UTF_8));
        String input = header + "." + payload;
        return input + "." + b64.encodeToString(hmacSha256(secret, input.getBytes(StandardCharsets.US_ASCII)));
    }

    @Override
    public synchronized void close() {
        if (udp != null) {
            udp.close();
            udp = null;
        }
    }

    // ---- internals ----

    private byte[] requireTokenSecret() {
        if (tokenSecret == null) {
            throw new IllegalStateException("no token secret: set HeraldClient.builder(url).tokenSecret(...) to Herald's token_secret");
        }
        return tokenSecret;
    }

    private static Map<String, Object> params(Object... pairs) {
        Map<String, Object> params = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            if (pairs[i + 1] != null) {
                params.put((String) pairs[i], pairs[i + 1]);
            }
        }
        return params;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object value) {
        return (Map<String, Object>) value;
    }

    private static byte[] bytes(String secret) {
        return secret == null || secret.isEmpty() ? null : secret.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] hmacSha256(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    private static String hex(byte[] bytes) {
        StringBuilder out = new StringBuilder(bytes.length * 2);
        for (byte b : bytes) {
            out.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
        }
        return out.toString();
    }

    private static String shorten(String text) {
        return text.length() > 200 ? text.substring(0, 200) + "..." : text;
    }
}
