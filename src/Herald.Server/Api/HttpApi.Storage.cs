using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Herald.Core;
using Herald.Core.Engine;
using Herald.Core.Protocols.HeraldV1;
using Herald.Protocol;
using Microsoft.AspNetCore.Http;

namespace Herald.Server.Api;

/// <summary>The history and inbox methods of the HTTP API.</summary>
internal sealed partial class HttpApi
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private async Task StorageMethodAsync(HttpContext context, string method, byte[] body)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(body.Length == 0 ? "{}"u8.ToArray() : body);
            root = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new NodeRequestException(ErrorCodes.BadRequest, "invalid JSON: " + ex.Message);
        }
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new NodeRequestException(ErrorCodes.BadRequest, "the body must be a JSON object");
        }
        var cancellation = context.RequestAborted;
        switch (method)
        {
            case "online" or "presence" or "presence_stats" or "channels" or "count" or "disconnect" or "subscribe" or "unsubscribe" or "attributes":
                await PresenceMethodAsync(context, method, root).ConfigureAwait(false);
                break;
            case "history":
            {
                var channel = RequiredString(root, "channel");
                var limit = OptionalInt(root, "limit") ?? 100;
                var newestFirst = root.TryGetProperty("newest_first", out var nf) && nf.ValueKind == JsonValueKind.True;
                var (sinceOffset, sinceEpoch) = Since(root);
                var page = await node.HistoryAsync(channel, limit, sinceOffset, newestFirst, cancellation).ConfigureAwait(false);
                if (sinceEpoch is not null && sinceEpoch != page.Position.Epoch)
                {
                    throw new NodeRequestException(ErrorCodes.BadRequest,
                        $"epoch \"{sinceEpoch}\" is not the channel's current epoch \"{page.Position.Epoch}\": its history was reset, read it without since");
                }
                await WriteJsonAsync(context, page, static (w, p) =>
                {
                    w.WriteNumber("offset"u8, p.Position.Offset);
                    w.WriteString("epoch"u8, p.Position.Epoch);
                    HeraldV1Results.WritePublications(w, p.Publications, withTime: true);
                }).ConfigureAwait(false);
                break;
            }
            case "history_remove":
                await node.RemoveHistoryAsync(RequiredString(root, "channel"), cancellation).ConfigureAwait(false);
                await WriteJsonAsync<object?>(context, null, static (_, _) => { }).ConfigureAwait(false);
                break;
            case "inbox":
            {
                var user = RequiredString(root, "user");
                ulong? since = root.TryGetProperty("since", out var s) && s.ValueKind != JsonValueKind.Null ? ULong(s, "since") : null;
                var page = await node.InboxAsync(user, since, OptionalInt(root, "limit") ?? 100, cancellation).ConfigureAwait(false);
                await WriteJsonAsync(context, page, static (w, p) =>
                {
                    w.WriteNumber("offset"u8, p.Offset);
                    w.WriteNumber("acked"u8, p.Acked);
                    HeraldV1Results.WritePublications(w, p.Publications, withTime: true);
                }).ConfigureAwait(false);
                break;
            }
            case "inbox_ack":
            {
                var user = RequiredString(root, "user");
                if (!root.TryGetProperty("offset", out var o))
                {
                    throw new NodeRequestException(ErrorCodes.BadRequest, "inbox_ack needs \"offset\"");
                }
                var acked = await node.InboxAckAsync(user, ULong(o, "offset"), cancellation).ConfigureAwait(false);
                await WriteJsonAsync(context, acked, static (w, a) => w.WriteNumber("acked"u8, a)).ConfigureAwait(false);
                break;
            }
            case "inbox_delete":
            {
                var user = RequiredString(root, "user");
                ulong? upTo = root.TryGetProperty("offset", out var o) && o.ValueKind != JsonValueKind.Null ? ULong(o, "offset") : null;
                await node.InboxDeleteAsync(user, upTo, cancellation).ConfigureAwait(false);
                await WriteJsonAsync<object?>(context, null, static (_, _) => { }).ConfigureAwait(false);
                break;
            }
        }
    }

    private static (ulong Offset, string? Epoch) Since(JsonElement root)
    {
        if (!root.TryGetProperty("since", out var since) || since.ValueKind == JsonValueKind.Null)
        {
            return (0, null);
        }
        if (since.ValueKind == JsonValueKind.Number)
        {
            return (ULong(since, "since"), null);
        }
        if (since.ValueKind == JsonValueKind.Object && since.TryGetProperty("offset", out var offset))
        {
            var epoch = since.TryGetProperty("epoch", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
            return (ULong(offset, "since.offset"), epoch);
        }
        throw new NodeRequestException(ErrorCodes.BadRequest, "\"since\" must be an offset or {\"offset\":N,\"epoch\":\"E\"}");
    }

    private static string RequiredString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString()!.Length > 0
            ? value.GetString()!
            : throw new NodeRequestException(ErrorCodes.BadRequest, $"\"{name}\" (a non-empty string) is required");

    private static int? OptionalInt(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n >= 0
            ? n
            : throw new NodeRequestException(ErrorCodes.BadRequest, $"\"{name}\" must be a whole number, 0 or more");
    }

    private static ulong ULong(JsonElement value, string name) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetUInt64(out var n)
            ? n
            : throw new NodeRequestException(ErrorCodes.BadRequest, $"\"{name}\" must be an offset (a whole number, 0 or more)");

    private static async Task WriteJsonAsync<T>(HttpContext context, T state, Action<Utf8JsonWriter, T> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            write(writer, state);
            writer.WriteEndObject();
        }
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }
}
