package io.herald;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A publish body: targets (channel, channels, user, users, where), data and an optional idempotency key.
 * <pre>Message.toUser("42").data(Map.of("approve", 1001)).idempotencyKey("approve-1001")</pre>
 * Targets add up; {@code where} narrows them, or alone reaches every matching connection.
 */
public final class Message {
    private final Map<String, Object> body = new LinkedHashMap<>();

    public static Message toChannel(String channel) {
        return new Message().channel(channel);
    }

    public static Message toChannels(Collection<String> channels) {
        return new Message().channels(channels);
    }

    public static Message toUser(String user) {
        return new Message().user(user);
    }

    public static Message toUsers(Collection<String> users) {
        return new Message().users(users);
    }

    /** Every connection whose attributes match; an empty map reaches every connection. */
    public static Message toWhere(Map<String, ?> where) {
        return new Message().where(where);
    }

    public Message channel(String channel) {
        body.put("channel", channel);
        return this;
    }

    public Message channels(Collection<String> channels) {
        body.put("channels", new ArrayList<>(channels));
        return this;
    }

    public Message user(String user) {
        body.put("user", user);
        return this;
    }

    public Message users(Collection<String> users) {
        body.put("users", new ArrayList<>(users));
        return this;
    }

    /** An attribute filter: each value is a String, Number, Boolean, or a List of them (any of the values). */
    public Message where(Map<String, ?> where) {
        body.put("where", new LinkedHashMap<>(where));
        return this;
    }

    /** What the recipients get: a Map, List, String, Number, Boolean, null, or {@link Json.Raw} JSON text. */
    public Message data(Object data) {
        body.put("data", data);
        return this;
    }

    public Message idempotencyKey(String key) {
        body.put("idempotency_key", key);
        return this;
    }

    /** The body as a map, in the order the fields were set. */
    public Map<String, Object> toMap() {
        return body;
    }

    public String toJson() {
        return Json.write(body);
    }
}
