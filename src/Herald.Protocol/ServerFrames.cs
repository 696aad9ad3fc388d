using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Herald.Protocol;

/// <summary>
/// Encodes the frames a Herald server sends to native clients. Every method returns a fresh array that may be shared
/// by any number of recipients (it is never written again).
/// </summary>
public static class ServerFrames
{
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        SkipValidation = true,
        // Frames go to WebSocket clients, never into HTML: keep quotes and non-ASCII text readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The keep-alive push; the client answers with <c>{"method":"pong"}</c>.</summary>
    public static readonly byte[] PingPush = "{\"push\":\"ping\"}"u8.ToArray();

    /// <summary>Writes a frame with a pooled writer and copies it out.</summary>
    public static byte[] Write<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(256);
        var writer = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        write(writer, state);
        writer.Flush();
        var bytes = buffer.WrittenSpan.ToArray();
        if (buffer.Capacity > 64 * 1024)
        {
            t_buffer = null; // do not pin a large buffer to the thread forever
            t_writer = null;
        }
        return bytes;
    }

    /// <summary>
    /// A publication push. <paramref name="channel"/> is null for attribute-targeted publishes; <paramref name="offset"/>
    /// is 0 for channels without history; <paramref name="eventName"/> is null when the publish named no event (the
    /// field is then left out, so clients that predate it see the frame they always saw).
    /// </summary>
    public static byte[] Publication(string? channel, ReadOnlyMemory<byte> data, ulong offset = 0, string? eventName = null) =>
        Write((channel, data, offset, eventName), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteString("push"u8, ProtocolNames.Pushes.Publication);
            if (s.channel is not null)
            {
                w.WriteString("channel"u8, s.channel);
            }
            if (s.offset != 0)
            {
                w.WriteNumber("offset"u8, s.offset);
            }
            if (s.eventName is not null)
            {
                w.WriteString("event"u8, s.eventName);
            }
            w.WritePropertyName("data"u8);
            w.WriteRawValue(s.data.Span, skipInputValidation: true);
            w.WriteEndObject();
        });

    /// <summary>An entry of the user's inbox: <c>{"push":"inbox","offset":N,"event":"e","data":...}</c> (no event: none named).</summary>
    public static byte[] InboxEntry(ulong offset, ReadOnlyMemory<byte> data, string? eventName = null) =>
        Write((offset, data, eventName), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteString("push"u8, ProtocolNames.Pushes.Inbox);
            w.WriteNumber("offset"u8, s.offset);
            if (s.eventName is not null)
            {
                w.WriteString("event"u8, s.eventName);
            }
            w.WritePropertyName("data"u8);
            w.WriteRawValue(s.data.Span, skipInputValidation: true);
            w.WriteEndObject();
        });

    /// <summary>A join or leave push: <c>{"push":"join","channel":"c","client":"id","user":"42","info":...}</c>.</summary>
    public static byte[] Presence(string kind, string channel, string client, string user, ReadOnlyMemory<byte> info) =>
        Write((kind, channel, client, user, info), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteString("push"u8, s.kind);
            w.WriteString("channel"u8, s.channel);
            w.WriteString("client"u8, s.client);
            w.WriteString("user"u8, s.user);
            if (!s.info.IsEmpty)
            {
                w.WritePropertyName("info"u8);
                w.WriteRawValue(s.info.Span, skipInputValidation: true);
            }
            w.WriteEndObject();
        });

    /// <summary>The server changed this connection's subscriptions: <c>{"push":"subscribe"|"unsubscribe","channel":"c"}</c>.</summary>
    public static byte[] SubscriptionChanged(string kind, string channel) =>
        Write((kind, channel), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteString("push"u8, s.kind);
            w.WriteString("channel"u8, s.channel);
            w.WriteEndObject();
        });

    /// <summary>The push sent right before the server closes a native connection.</summary>
    public static byte[] Disconnect(int code, string reason) =>
        Write((code, reason), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteString("push"u8, ProtocolNames.Pushes.Disconnect);
            w.WriteNumber("code"u8, s.code);
            w.WriteString("reason"u8, s.reason);
            w.WriteBoolean("reconnect"u8, DisconnectCodes.ShouldReconnect(s.code));
            w.WriteEndObject();
        });

    /// <summary>An error reply; <paramref name="id"/> 0 means the command's id could not be read.</summary>
    public static byte[] Error(ulong id, int code, string message) =>
        Write((id, code, message), static (w, s) =>
        {
            w.WriteStartObject();
            if (s.id != 0)
            {
                w.WriteNumber("id"u8, s.id);
            }
            w.WriteStartObject("error"u8);
            w.WriteNumber("code"u8, s.code);
            w.WriteString("message"u8, s.message);
            w.WriteEndObject();
            w.WriteEndObject();
        });

    /// <summary>A successful reply whose result object is written by <paramref name="writeResult"/> (null: empty).</summary>
    public static byte[] Result<TState>(ulong id, TState state, Action<Utf8JsonWriter, TState>? writeResult) =>
        Write((id, state, writeResult), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteNumber("id"u8, s.id);
            w.WriteStartObject("result"u8);
            s.writeResult?.Invoke(w, s.state);
            w.WriteEndObject();
            w.WriteEndObject();
        });

    /// <summary>An empty successful reply.</summary>
    public static byte[] EmptyResult(ulong id) => Result<object?>(id, null, null);
}
