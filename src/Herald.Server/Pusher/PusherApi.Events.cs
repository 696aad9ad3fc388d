using System.Buffers;
using System.Text;
using System.Text.Json;
using Herald.Core.Apps;
using Herald.Core.Routing;
using Herald.Protocol;
using Microsoft.AspNetCore.Http;

namespace Herald.Server.Pusher;

/// <summary>Triggering events: <c>POST events</c> and <c>POST batch_events</c>.</summary>
internal sealed partial class PusherApi
{
    /// <summary>One event as the API takes it, checked: the app's channel names, never yet scoped.</summary>
    private sealed record EventRequest(string Name, string Data, IReadOnlyList<string> Channels, string? SocketId, InfoAttributes Info);

    /// <summary>Which counts a caller asked for with <c>info</c>.</summary>
    [Flags]
    private enum InfoAttributes
    {
        None = 0,
        UserCount = 1,
        SubscriptionCount = 2,
    }

    private async Task TriggerAsync(HttpContext context, AppOptions app, byte[] body)
    {
        using var document = ParseBody(body);
        var request = ReadEvent(document.RootElement, app, batch: false);
        await PublishAsync(app, request, context.RequestAborted).ConfigureAwait(false);
        var counts = await CountsAsync(app, request, context.RequestAborted).ConfigureAwait(false);
        await WriteJsonAsync(context, counts, static (w, c) =>
        {
            if (c is null)
            {
                return;
            }
            w.WriteStartObject("channels"u8);
            foreach (var (channel, attributes) in c)
            {
                w.WritePropertyName(channel);
                WriteAttributes(w, attributes);
            }
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    private async Task TriggerBatchAsync(HttpContext context, AppOptions app, byte[] body)
    {
        using var document = ParseBody(body);
        if (!document.RootElement.TryGetProperty("batch", out var batch) || batch.ValueKind != JsonValueKind.Array)
        {
            throw BadRequest("\"batch\" must be an array of events, each {\"channel\",\"name\",\"data\"}");
        }
        var length = batch.GetArrayLength();
        if (length > app.MaxEventsPerBatch)
        {
            throw BadRequest($"Batch too large: {length} events, the limit is {app.MaxEventsPerBatch} (app option max_events_per_batch)");
        }
        // All or nothing: every event is checked before the first is published.
        var events = batch.EnumerateArray().Select(e => ReadEvent(e, app, batch: true)).ToList();
        foreach (var request in events)
        {
            await PublishAsync(app, request, context.RequestAborted).ConfigureAwait(false);
        }
        var counts = new List<Dictionary<string, ChannelAttributes>?>();
        foreach (var request in events)
        {
            counts.Add(await CountsAsync(app, request, context.RequestAborted).ConfigureAwait(false));
        }
        await WriteJsonAsync(context, counts, static (w, all) =>
        {
            if (all.All(c => c is null))
            {
                return;
            }
            // One entry per event, in order: the counts of its channel, or {} when it asked for none.
            w.WriteStartArray("batch"u8);
            foreach (var c in all)
            {
                if (c is null || c.Count == 0)
                {
                    w.WriteStartObject();
                    w.WriteEndObject();
                    continue;
                }
                WriteAttributes(w, c.Values.First());
            }
            w.WriteEndArray();
        }).ConfigureAwait(false);
    }

    private static JsonDocument ParseBody(byte[] body)
    {
        try
        {
            var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                throw BadRequest("Invalid body: expected a JSON object");
            }
            return document;
        }
        catch (JsonException ex)
        {
            throw BadRequest("Invalid body: not valid JSON: " + ex.Message);
        }
    }

    private static EventRequest ReadEvent(JsonElement element, AppOptions app, bool batch)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw BadRequest("Each event must be a JSON object {\"channel\",\"name\",\"data\"}");
        }
        var name = OptionalString(element, "name");
        if (!PusherNames.IsValidEvent(name, out var nameError))
        {
            throw BadRequest(nameError);
        }
        if (!element.TryGetProperty("data", out var dataElement) || dataElement.ValueKind != JsonValueKind.String)
        {
            throw BadRequest("\"data\" must be a string (Pusher event data is text, usually JSON encoded by the SDK)");
        }
        var data = dataElement.GetString()!;
        var size = Encoding.UTF8.GetByteCount(data);
        if (size > app.MaxEventSizeBytes)
        {
            throw new PusherApiException(StatusCodes.Status413PayloadTooLarge,
                $"Event data too large: {size} bytes, the limit is {app.MaxEventSizeBytes} bytes (app option max_event_size_kb)");
        }
        var channels = Channels(element, app, batch);
        var socketId = OptionalString(element, "socket_id");
        if (socketId is not null && !PusherNames.IsValidSocketId(socketId))
        {
            throw BadRequest($"Invalid socket_id '{socketId}': expected digits.digits, as a client's connection gives it");
        }
        // user_count is answered for the presence channels among them (Pusher's rule for trigger), so no refusal here.
        return new EventRequest(name!, data, channels, socketId, ReadInfo(OptionalString(element, "info"), presenceOnly: true));
    }

    private static List<string> Channels(JsonElement element, AppOptions app, bool batch)
    {
        var hasOne = element.TryGetProperty("channel", out var one);
        var hasMany = element.TryGetProperty("channels", out var many);
        if (hasOne == hasMany)
        {
            throw BadRequest(batch ? "Each event must name its \"channel\"" : "Name the channels: \"channels\" (an array) or \"channel\" (one name), not both");
        }
        List<string> list;
        if (hasOne)
        {
            list = one.ValueKind == JsonValueKind.String ? [one.GetString()!] : throw BadRequest("\"channel\" must be a string");
        }
        else
        {
            if (many.ValueKind != JsonValueKind.Array || many.EnumerateArray().Any(c => c.ValueKind != JsonValueKind.String))
            {
                throw BadRequest("\"channels\" must be an array of channel names");
            }
            list = [.. many.EnumerateArray().Select(c => c.GetString()!).Distinct(StringComparer.Ordinal)];
        }
        if (list.Count == 0)
        {
            throw BadRequest("\"channels\" must name at least one channel");
        }
        if (list.Count > app.MaxChannelsPerEvent)
        {
            throw BadRequest($"Too many channels: {list.Count}, the limit is {app.MaxChannelsPerEvent} (app option max_channels_per_event)");
        }
        foreach (var channel in list)
        {
            if (!PusherNames.IsValidChannel(channel))
            {
                throw BadRequest($"Invalid channel name '{channel}': 1 to {PusherNames.MaxNameLength} characters of A-Z, a-z, 0-9 and _ - = @ , . ;");
            }
        }
        return list;
    }

    /// <summary>The <c>info</c> attributes asked for: user_count (presence channels only) and subscription_count.</summary>
    private static InfoAttributes ReadInfo(string? info, bool presenceOnly)
    {
        var attributes = InfoAttributes.None;
        foreach (var attribute in (info ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            attributes |= attribute switch
            {
                "user_count" => InfoAttributes.UserCount,
                "subscription_count" => InfoAttributes.SubscriptionCount,
                _ => throw BadRequest($"Unknown info attribute '{attribute}': use user_count and/or subscription_count"),
            };
        }
        if (attributes.HasFlag(InfoAttributes.UserCount) && !presenceOnly)
        {
            throw BadRequest("user_count is only available for presence channels (names starting with presence-); to list channels with it, set filter_by_prefix=presence-");
        }
        return attributes;
    }

    private async Task PublishAsync(AppOptions app, EventRequest request, CancellationToken cancellation)
    {
        var channels = request.Channels.Select(c => AppScope.Scope(app, c)).ToArray();
        // Pusher data is a string: published as a JSON string, so native clients get the same string and plain ones the text.
        var buffer = new ArrayBufferWriter<byte>(request.Data.Length + 2);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStringValue(request.Data);
        }
        var data = buffer.WrittenSpan.ToArray();
        var publish = new PublishRequest(channels, null, data, dataIsString: true) { Event = request.Name, ExceptConnection = request.SocketId };
        var result = await node.PublishAsync(publish, cancellation).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new PusherApiException(result.ErrorCode == ErrorCodes.StoreUnavailable ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status400BadRequest,
                "Event not published: " + result.Error);
        }
    }

    /// <summary>The counts <paramref name="request"/> asked for, by the app's channel name; null when it asked for none.</summary>
    private async Task<Dictionary<string, ChannelAttributes>?> CountsAsync(AppOptions app, EventRequest request, CancellationToken cancellation)
    {
        if (request.Info == InfoAttributes.None)
        {
            return null;
        }
        var result = new Dictionary<string, ChannelAttributes>(StringComparer.Ordinal);
        foreach (var channel in request.Channels)
        {
            var (subscriptions, users) = await ChannelCountsAsync(AppScope.Scope(app, channel), cancellation).ConfigureAwait(false);
            result[channel] = new ChannelAttributes(
                request.Info.HasFlag(InfoAttributes.UserCount) && PusherNames.IsPresence(channel) ? users : null,
                request.Info.HasFlag(InfoAttributes.SubscriptionCount) ? subscriptions : null);
        }
        return result;
    }

    private static PusherApiException BadRequest(string message) => new(StatusCodes.Status400BadRequest, message);

    private static string? OptionalString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString()!.Length > 0 ? value.GetString() : null;
}
