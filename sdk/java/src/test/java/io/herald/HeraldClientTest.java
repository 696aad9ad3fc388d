package io.herald;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Tests of HeraldClient against a real Herald started here on free loopback ports (no JUnit: Maven Central is not
 * reachable). Prints one line per test and "N passed, M failed"; exits 1 on any failure.
 */
public final class HeraldClientTest {
    static final String API_KEY = "sdk-test-key";
    static final String TOKEN_SECRET = "sdk-test-token-secret-0123456789abcdef";
    static final String UDP_SECRET = "sdk-test-udp-secret";

    interface Test {
        void run() throws Exception;
    }

    static HeraldServer plain;
    static HeraldServer signed;

    public static void main(String[] args) throws Exception {
        Map<String, Test> tests = new LinkedHashMap<>();
        tests.put("JSON writes and parses every kind of value", HeraldClientTest::jsonRoundTrips);
        tests.put("publish to a channel is stored in history", HeraldClientTest::publishToChannel);
        tests.put("publish to channels reports each channel", HeraldClientTest::publishToChannels);
        tests.put("publish to a user lands in the inbox", HeraldClientTest::publishToUser);
        tests.put("publish to users lands in every inbox", HeraldClientTest::publishToUsers);
        tests.put("publish where is live only", HeraldClientTest::publishWhere);
        tests.put("a repeated idempotency key is a duplicate", HeraldClientTest::idempotency);
        tests.put("publish batch returns every reply in order", HeraldClientTest::batch);
        tests.put("no target throws 111 with status 400", HeraldClientTest::noTarget);
        tests.put("a wrong API key throws 101 with status 401", HeraldClientTest::wrongKey);
        tests.put("an unknown method throws 102 with status 404", HeraldClientTest::unknownMethod);
        tests.put("online, presence and presence_stats of an empty server", HeraldClientTest::presence);
        tests.put("disconnect, count, channels, subscribe, attributes and info", HeraldClientTest::control);
        tests.put("UDP push reaches history", HeraldClientTest::udpPush);
        tests.put("a signed push is accepted and bad ones dropped", HeraldClientTest::signedPush);
        tests.put("an oversized datagram is refused locally", HeraldClientTest::oversized);
        tests.put("a connection token is accepted by herald token check", HeraldClientTest::connectionToken);
        tests.put("a subscription token is accepted by herald token check", HeraldClientTest::subscriptionToken);
        tests.put("expired and wrongly signed tokens are refused", HeraldClientTest::refusedTokens);
        tests.put("a connected user gets HTTP and UDP publishes and can be disconnected", HeraldClientTest::liveDelivery);

        int passed = 0;
        int failed = 0;
        try {
            plain = new HeraldServer(API_KEY, TOKEN_SECRET, null);
            signed = new HeraldServer(API_KEY, TOKEN_SECRET, UDP_SECRET);
            for (Map.Entry<String, Test> test : tests.entrySet()) {
                try {
                    test.getValue().run();
                    passed++;
                    System.out.println("ok   " + test.getKey());
                } catch (Throwable e) {
                    failed++;
                    System.out.println("FAIL " + test.getKey() + ": " + e);
                }
            }
        } catch (Exception e) {
            failed++;
            System.out.println("FAIL starting Herald: " + e.getMessage());
        } finally {
            if (plain != null) {
                plain.close();
            }
            if (signed != null) {
                signed.close();
            }
        }
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }

    // ---- helpers ----

    static HeraldClient client(HeraldServer server) {
        return HeraldClient.builder(server.url).apiKey(API_KEY).udp("127.0.0.1", server.udpPort).tokenSecret(TOKEN_SECRET).build();
    }

    static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    static void same(Object expected, Object actual, String what) {
        if (!Objects.equals(expected, actual)) {
            throw new AssertionError(what + ": expected " + expected + ", got " + actual);
        }
    }

    static void check(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError(what);
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object value) {
        return (Map<String, Object>) value;
    }

    @SuppressWarnings("unchecked")
    static List<Object> publications(Map<String, Object> reply) {
        return (List<Object>) reply.get("publications");
    }

    static List<Object> data(Map<String, Object> reply) {
        List<Object> data = new ArrayList<>();
        for (Object publication : publications(reply)) {
            data.add(map(publication).get("data"));
        }
        return data;
    }

    static HeraldException heraldError(Test call) throws Exception {
        try {
            call.run();
        } catch (HeraldException e) {
            return e;
        }
        throw new AssertionError("expected a HeraldException");
    }

    static List<Object> waitForHistory(HeraldClient herald, String channel, int count) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 5000;
        List<Object> data;
        do {
            data = data(herald.history(channel));
            if (data.size() >= count) {
                break;
            }
            Thread.sleep(50);
        } while (System.currentTimeMillis() < deadline);
        return data;
    }

    // ---- tests ----

    static void jsonRoundTrips() {
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("s", "q\"\\/\n\t\u0001é👋");
        value.put("i", 42L);
        value.put("d", 1.5);
        value.put("whole", 2.0);
        value.put("b", true);
        value.put("n", null);
        value.put("l", List.of(1L, "x", List.of(), Map.of()));
        String json = Json.write(value);
        same(value, Json.parse(json), "round trip of " + json);
        same(Map.of("a", List.of(1L, -2500.0)), Json.parse(" {\"a\" : [ 1 , -2.5e3 ] } "), "spaces and exponent");
        same("é", Json.parse("\"\\u00e9\""), "unicode escape");
        same("{\"raw\":[1, 2]}", Json.write(Map.of("raw", new Json.Raw("[1, 2]"))), "raw");
        try {
            Json.parse("{\"a\":}");
            throw new AssertionError("invalid JSON was parsed");
        } catch (IllegalArgumentException expected) {
            // refused
        }
    }

    static void publishToChannel() {
        try (HeraldClient herald = client(plain)) {
            String channel = unique("news");
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("title", "Grüße 👋");
            data.put("n", 1.5);
            data.put("ok", true);
            data.put("none", null);
            Map<String, Object> reply = herald.publish(Message.toChannel(channel).data(data));
            same(0L, reply.get("recipients"), "recipients");
            same(1L, reply.get("offset"), "offset");
            Map<String, Object> history = herald.history(channel);
            same(reply.get("epoch"), history.get("epoch"), "epoch");
            same(List.of(data), data(history), "data");
        }
    }

    static void publishToChannels() {
        try (HeraldClient herald = client(plain)) {
            String a = unique("a");
            String b = unique("b");
            Map<String, Object> reply = herald.publish(Message.toChannels(List.of(a, b)).data("both"));
            same(Set.of(a, b), map(reply.get("channels")).keySet(), "channels");
            same(List.of("both"), data(herald.history(b)), "data");
        }
    }

    static void publishToUser() {
        try (HeraldClient herald = client(plain)) {
            String user = unique("u");
            same(Map.of(user, 1L), herald.publish(Message.toUser(user).data(Map.of("approve", 1001))).get("inbox"), "inbox");
            same(List.of(Map.of("approve", 1001L)), data(herald.inbox(user)), "data");
            same(Map.of("acked", 1L), herald.inboxAck(user, 1), "ack");
            same(List.of(), data(herald.inbox(user)), "after ack");
            same(Map.of(), herald.inboxDelete(user, null), "delete");
        }
    }

    static void publishToUsers() {
        try (HeraldClient herald = client(plain)) {
            List<String> users = List.of(unique("u"), unique("u"));
            same(Set.copyOf(users), map(herald.publish(Message.toUsers(users).data("hi")).get("inbox")).keySet(), "inbox");
            for (String user : users) {
                same(List.of("hi"), data(herald.inbox(user)), "data of " + user);
            }
        }
    }

    static void publishWhere() {
        try (HeraldClient herald = client(plain)) {
            same(Map.of("recipients", 0L), herald.publish(Message.toWhere(Map.of("school_id", "2", "class", List.of("1", "3"))).data(42)), "reply");
            same(Map.of("recipients", 0L), herald.publish(Message.toWhere(Map.of()).data("everyone")), "reply to where {}");
        }
    }

    static void idempotency() {
        try (HeraldClient herald = client(plain)) {
            String channel = unique("orders");
            String key = unique("key");
            Map<String, Object> first = herald.publish(Message.toChannel(channel).data(1).idempotencyKey(key));
            Map<String, Object> second = herald.publish(Map.of("channel", channel, "data", 2, "idempotency_key", key));
            check(!first.containsKey("duplicate"), "the first is not a duplicate");
            same(true, second.get("duplicate"), "duplicate");
            same(first.get("offset"), second.get("offset"), "offset");
            same(1, data(herald.history(channel)).size(), "stored once");
        }
    }

    static void batch() {
        try (HeraldClient herald = client(plain)) {
            String channel = unique("batch");
            List<Message> messages = new ArrayList<>();
            List<Object> offsets = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                messages.add(Message.toChannel(channel).data(i));
                offsets.add((long) i + 1);
            }
            List<Object> got = new ArrayList<>();
            for (Map<String, Object> reply : herald.publishBatch(messages)) {
                got.add(reply.get("offset"));
            }
            same(offsets, got, "offsets");
            Map<String, Object> history = herald.history(channel, 3, null, true);
            same(List.of(19L, 18L, 17L), data(history), "newest first");
            same(List.of(18L, 19L), data(herald.history(channel, null, Map.of("offset", 18, "epoch", history.get("epoch")), null)), "since");
            same(Map.of(), herald.historyRemove(channel), "history_remove");
        }
    }

    static void noTarget() throws Exception {
        try (HeraldClient herald = client(plain)) {
            HeraldException e = heraldError(() -> herald.publish(Map.of("data", 1)));
            same(List.of(111, 400), List.of(e.code(), e.status()), "code and status");
            check(!e.heraldMessage().isEmpty(), "has a message");
        }
    }

    static void wrongKey() throws Exception {
        try (HeraldClient herald = HeraldClient.builder(plain.url).apiKey("wrong").build()) {
            HeraldException e = heraldError(herald::info);
            same(List.of(101, 401), List.of(e.code(), e.status()), "code and status");
        }
    }

    static void unknownMethod() throws Exception {
        try (HeraldClient herald = client(plain)) {
            HeraldException e = heraldError(() -> herald.call("send", Map.of()));
            same(List.of(102, 404), List.of(e.code(), e.status()), "code and status");
            same(107, heraldError(() -> herald.publish(Message.toChannel("has space").data(1))).code(), "invalid channel");
        }
    }

    static void presence() {
        try (HeraldClient herald = client(plain)) {
            Map<String, Object> online = herald.online(List.of("42"));
            same(Map.of("online", false, "connections", 0L), map(online.get("users")).get("42"), "user 42");
            same(0L, online.get("total_connections"), "total_connections");
            same(List.of(), herald.presence("room", null, null).get("members"), "members");
            same(Map.of("connections", 0L, "users", 0L), herald.presenceStats("room"), "stats");
        }
    }

    static void control() {
        try (HeraldClient herald = client(plain)) {
            same(Map.of("disconnected", 0L), herald.disconnect("42", "locked", false), "disconnect");
            same(Map.of("disconnected", 0L), herald.disconnectClient("nobody-1", null, true), "disconnect a client");
            same(Map.of("connections", 0L, "users", 0L), herald.count(Map.of("school_id", "2"), false, null, null), "count");
            same(List.of(), herald.channels(null, null, null).get("channels"), "channels");
            same(Map.of("connections", 0L), herald.subscribe("42", "room"), "subscribe");
            same(Map.of("connections", 0L), herald.unsubscribe("42", "room"), "unsubscribe");
            same(Map.of("connections", 0L), herald.attributes("42", Map.of("role", "x")), "attributes");
            check(herald.info().containsKey("version"), "info has a version");
        }
    }

    static void udpPush() throws Exception {
        try (HeraldClient herald = client(plain)) {
            String channel = unique("udp");
            herald.push(Message.toChannel(channel).data(Map.of("via", "udp")));
            herald.pushBatch(List.of(Message.toChannel(channel).data(0), Message.toChannel(channel).data(1)));
            same(List.of(Map.of("via", "udp"), 0L, 1L), waitForHistory(herald, channel, 3), "data");
        }
    }

    static void signedPush() throws Exception {
        String channel = unique("signed");
        HeraldClient.Builder base = HeraldClient.builder(signed.url).apiKey(API_KEY).udp("127.0.0.1", signed.udpPort);
        try (HeraldClient forger = base.udpSecret("not-the-secret").build()) {
            forger.push(Message.toChannel(channel).data("forged"));
        }
        try (HeraldClient unsigned = HeraldClient.builder(signed.url).udp("127.0.0.1", signed.udpPort).build()) {
            unsigned.push(Message.toChannel(channel).data("unsigned"));
        }
        try (HeraldClient herald = base.udpSecret(UDP_SECRET).build()) {
            check(new String(herald.datagram(Map.of("x", 1)), StandardCharsets.UTF_8).startsWith("sha256="), "signed datagram");
            herald.push(Message.toChannel(channel).data("signed"));
            waitForHistory(herald, channel, 1);
            Thread.sleep(200); // datagrams are handled in order: the bad ones, sent first, are gone for good
            same(List.of("signed"), data(herald.history(channel)), "only the signed one");
        }
    }

    static void oversized() {
        try (HeraldClient herald = client(plain)) {
            herald.push(Message.toChannel("big").data("x".repeat(70000)));
            throw new AssertionError("expected an IllegalArgumentException");
        } catch (IllegalArgumentException expected) {
            // refused before sending
        }
    }

    static void connectionToken() throws Exception {
        try (HeraldClient herald = client(plain)) {
            String token = herald.connectionToken("42", Duration.ofMinutes(10), Map.of("school_id", "2"), List.of("orders#42"), Map.of("name", "Ann"));
            Object[] result = plain.checkToken(token);
            same(0, result[0], "exit code (" + result[1] + ")");
            Map<String, Object> claims = map(Json.parse((String) result[1]));
            same("42", claims.get("user"), "user");
            same(Map.of("school_id", "2"), claims.get("attrs"), "attrs");
            same(List.of("orders#42"), claims.get("channels"), "channels");
        }
    }

    static void subscriptionToken() throws Exception {
        try (HeraldClient herald = client(plain)) {
            Object[] result = plain.checkToken(herald.subscriptionToken("42", "secret:plans", Duration.ofMinutes(5)));
            same(0, result[0], "exit code (" + result[1] + ")");
            same("secret:plans", map(Json.parse((String) result[1])).get("channel"), "channel");
        }
    }

    static void refusedTokens() throws Exception {
        long hourAgo = System.currentTimeMillis() / 1000 - 3600;
        String expired = HeraldClient.mintToken(TOKEN_SECRET, HeraldClient.claims("42", Duration.ofMinutes(1), null, null, null, hourAgo));
        String forged = HeraldClient.mintToken("another-secret-0123456789abcdef0123", Map.of("sub", "42"));
        same(1, plain.checkToken(expired)[0], "expired");
        same(1, plain.checkToken(forged)[0], "forged");
    }

    /** A plain WebSocket client, admitted with a minted token, sees what the SDK publishes. */
    static void liveDelivery() throws Exception {
        try (HeraldClient herald = client(plain)) {
            String user = unique("live");
            String channel = unique("room");
            String token = herald.connectionToken(user, Duration.ofMinutes(5), Map.of("school_id", "2"), List.of(channel), null);
            BlockingQueue<String> received = new LinkedBlockingQueue<>();
            CompletableFuture<Integer> closed = new CompletableFuture<>();
            WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder()
                .buildAsync(URI.create(plain.url.replace("http:", "ws:") + "/?token=" + token), new WebSocket.Listener() {
                    private final StringBuilder text = new StringBuilder();

                    @Override
                    public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
                        text.append(data);
                        if (last) {
                            received.add(text.toString());
                            text.setLength(0);
                        }
                        socket.request(1);
                        return null;
                    }

                    @Override
                    public CompletionStage<?> onClose(WebSocket socket, int code, String reason) {
                        closed.complete(code);
                        return null;
                    }
                }).get(5, TimeUnit.SECONDS);
            try {
                long deadline = System.currentTimeMillis() + 5000;
                // online can count the connection a moment before its token's channels are subscribed: wait for both
                while (!Long.valueOf(1).equals(map(map(herald.online(List.of(user)).get("users")).get(user)).get("connections"))
                    || !Long.valueOf(1).equals(herald.presenceStats(channel).get("connections"))) {
                    check(System.currentTimeMillis() < deadline, "the connection was not admitted");
                    Thread.sleep(50);
                }
                same(1L, herald.publish(Message.toUser(user).data(Map.of("n", 1))).get("recipients"), "recipients of the user publish");
                same("{\"n\":1}", received.poll(5, TimeUnit.SECONDS), "user publish");
                same(1L, herald.publish(Message.toChannel(channel).data("on the channel")).get("recipients"), "recipients of the channel publish");
                same("on the channel", received.poll(5, TimeUnit.SECONDS), "channel publish");
                herald.push(Message.toWhere(Map.of("school_id", "2")).data(Map.of("order", 42)));
                same("{\"order\":42}", received.poll(5, TimeUnit.SECONDS), "UDP where publish");
                same(Map.of("disconnected", 1L), herald.disconnect(user, "bye", false), "disconnect");
                same(4502, closed.get(5, TimeUnit.SECONDS), "close code");
            } finally {
                ws.abort();
            }
        }
    }
}
