using System.Text.Json;
using Herald.Core.Engine;
using Herald.Protocol;

namespace Herald.Core.Protocols.Pusher;

/// <summary>
/// The frames of the Pusher protocol (version 7) a server sends: <c>{"event":...,"channel":...,"data":...}</c>. Where
/// Pusher sends <c>data</c> as a JSON string (events, connection_established, subscription_succeeded, members), so do
/// these; errors carry an object. Every method returns a fresh array that any number of recipients may share.
/// </summary>
internal static class PusherFrames
{
    /// <summary>The event a publication that names none is received as.</summary>
    public const string DefaultEvent = "message";

    /// <summary>The keep-alive ping; clients answer with <c>pusher:pong</c>.</summary>
    public static readonly byte[] Ping = "{\"event\":\"pusher:ping\",\"data\":{}}"u8.ToArray();

    /// <summary>The answer to a client's <c>pusher:ping</c>.</summary>
    public static readonly byte[] Pong = "{\"event\":\"pusher:pong\",\"data\":{}}"u8.ToArray();

    /// <summary><c>pusher:connection_established</c> with the socket id and the activity timeout in seconds.</summary>
    public static byte[] ConnectionEstablished(string socketId, int activityTimeoutSeconds)
    {
        var data = ServerFrames.Write((socketId, activityTimeoutSeconds), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteString("socket_id"u8, s.socketId);
            w.WriteNumber("activity_timeout"u8, s.activityTimeoutSeconds);
            w.WriteEndObject();
        });
        return WithStringData("pusher:connection_established", null, data);
    }

    /// <summary><c>pusher:error</c> with <c>{"code":...,"message":...}</c>; a null code for errors that close nothing.</summary>
    public static byte[] Error(int? code, string message) =>
        ServerFrames.Write((code, message), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteString("event"u8, "pusher:error"u8);
            w.WriteStartObject("data"u8);
            if (s.code is { } code)
            {
                w.WriteNumber("code"u8, code);
            }
            else
            {
                w.WriteNull("code"u8);
            }
            w.WriteString("message"u8, s.message);
            w.WriteEndObject();
            w.WriteEndObject();
        });

    /// <summary>
    /// <c>pusher:subscription_error</c> for <paramref name="channel"/>, with the data pusher-js gives its error
    /// callbacks: <c>{"type":"AuthError","error":...,"status":...}</c>.
    /// </summary>
    public static byte[] SubscriptionError(string channel, string type, string error, int status) =>
        ServerFrames.Write((channel, type, error, status), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteString("event"u8, "pusher:subscription_error"u8);
            w.WriteString("channel"u8, s.channel);
            w.WriteStartObject("data"u8);
            w.WriteString("type"u8, s.type);
            w.WriteString("error"u8, s.error);
            w.WriteNumber("status"u8, s.status);
            w.WriteEndObject();
            w.WriteEndObject();
        });

    /// <summary><c>pusher_internal:subscription_succeeded</c> of a channel that is not a presence channel.</summary>
    public static byte[] SubscriptionSucceeded(string channel) => WithStringData("pusher_internal:subscription_succeeded", channel, "{}"u8.ToArray());

    /// <summary>
    /// <c>pusher_internal:subscription_succeeded</c> of a presence channel: <c>{"presence":{"ids":[...],"hash":{id:info},"count":n}}</c>,
    /// one entry per user (a user on several connections once).
    /// </summary>
    public static byte[] PresenceSucceeded(string channel, IReadOnlyList<(string Id, byte[]? Info)> users)
    {
        var data = ServerFrames.Write(users, static (w, users) =>
        {
            w.WriteStartObject();
            w.WriteStartObject("presence"u8);
            w.WriteStartArray("ids"u8);
            foreach (var (id, _) in users)
            {
                w.WriteStringValue(id);
            }
            w.WriteEndArray();
            w.WriteStartObject("hash"u8);
            foreach (var (id, info) in users)
            {
                w.WritePropertyName(id);
                WriteInfo(w, info);
            }
            w.WriteEndObject();
            w.WriteNumber("count"u8, users.Count);
            w.WriteEndObject();
            w.WriteEndObject();
        });
        return WithStringData("pusher_internal:subscription_succeeded", channel, data);
    }

    /// <summary><c>pusher_internal:member_added</c> (<c>{"user_id":...,"user_info":...}</c>) or <c>member_removed</c> (<c>{"user_id":...}</c>).</summary>
    public static byte[] Member(string channel, string userId, byte[]? info, bool added)
    {
        var data = ServerFrames.Write((userId, info, added), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteString("user_id"u8, s.userId);
            if (s.added)
            {
                w.WritePropertyName("user_info"u8);
                WriteInfo(w, s.info);
            }
            w.WriteEndObject();
        });
        return WithStringData(added ? "pusher_internal:member_added" : "pusher_internal:member_removed", channel, data);
    }

    /// <summary><c>pusher:cache_miss</c>: a cache channel had no event to replay.</summary>
    public static byte[] CacheMiss(string channel) =>
        ServerFrames.Write(channel, static (w, channel) =>
        {
            w.WriteStartObject();
            w.WriteString("event"u8, "pusher:cache_miss"u8);
            w.WriteString("channel"u8, channel);
            w.WriteEndObject();
        });

    /// <summary><c>pusher:signin_success</c> with the user data the client signed in with.</summary>
    public static byte[] SigninSuccess(string userData) =>
        ServerFrames.Write(userData, static (w, userData) =>
        {
            w.WriteStartObject();
            w.WriteString("event"u8, "pusher:signin_success"u8);
            w.WriteStartObject("data"u8);
            w.WriteString("user_data"u8, userData);
            w.WriteEndObject();
            w.WriteEndObject();
        });

    /// <summary>
    /// An event: <paramref name="eventName"/> (null: <see cref="DefaultEvent"/>) on the app's <paramref name="channel"/>
    /// (null: none, a publish to a user or by attributes) with <paramref name="data"/> (raw JSON) as a string: the
    /// string itself when it is a JSON string, else its JSON text.
    /// </summary>
    public static byte[] Event(string? eventName, string? channel, ReadOnlyMemory<byte> data) =>
        ServerFrames.Write((eventName, channel, data), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteString("event"u8, s.eventName ?? DefaultEvent);
            if (s.channel is not null)
            {
                w.WriteString("channel"u8, s.channel);
            }
            var span = s.data.Span;
            if (span.Length > 0 && span[0] == (byte)'"')
            {
                w.WritePropertyName("data"u8);
                w.WriteRawValue(span, skipInputValidation: true);
            }
            else
            {
                w.WriteString("data"u8, span);
            }
            w.WriteEndObject();
        });

    /// <summary>The last event of a cache channel, replayed to a new subscriber.</summary>
    public static byte[] Stored(string channel, StoredPublication publication) => Event(publication.Event, channel, publication.Data);

    private static void WriteInfo(Utf8JsonWriter w, byte[]? info)
    {
        if (info is { Length: > 0 })
        {
            w.WriteRawValue(info, skipInputValidation: true);
        }
        else
        {
            w.WriteNullValue();
        }
    }

    private static byte[] WithStringData(string eventName, string? channel, byte[] data) =>
        ServerFrames.Write((eventName, channel, data), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteString("event"u8, s.eventName);
            if (s.channel is not null)
            {
                w.WriteString("channel"u8, s.channel);
            }
            w.WriteString("data"u8, s.data);
            w.WriteEndObject();
        });
}
