using System.Text.Json;

namespace Herald.Core.Protocols.Pusher;

/// <summary>
/// One frame a Pusher client sent: <c>{"event":"...","channel":"...","data":...}</c>. <c>data</c> is an object for the
/// protocol's own events (a JSON string holding an object is read as that object, as some clients send it) and any
/// JSON value for client events.
/// </summary>
/// <param name="Event">The event name.</param>
/// <param name="Channel">The top-level channel (client events), null when missing.</param>
/// <param name="Data">The data as sent, raw JSON; empty when missing.</param>
internal sealed record PusherRequest(string Event, string? Channel, ReadOnlyMemory<byte> Data)
{
    /// <summary>Most nesting a frame may have.</summary>
    private const int MaxDepth = 32;

    /// <summary>Reads a frame; false, with what is wrong, when it is not a JSON object with a string <c>event</c>.</summary>
    public static bool TryRead(ReadOnlyMemory<byte> utf8, out PusherRequest request, out string error)
    {
        request = null!;
        try
        {
            using var document = JsonDocument.Parse(utf8, new JsonDocumentOptions { MaxDepth = MaxDepth });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "a frame must be a JSON object {\"event\":...,\"data\":...}";
                return false;
            }
            if (!root.TryGetProperty("event"u8, out var name) || name.ValueKind != JsonValueKind.String || name.GetString() is not { Length: > 0 } eventName)
            {
                error = "a frame needs \"event\": the event name (a string)";
                return false;
            }
            string? channel = root.TryGetProperty("channel"u8, out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            var data = root.TryGetProperty("data"u8, out var d) ? System.Text.Encoding.UTF8.GetBytes(d.GetRawText()) : ReadOnlyMemory<byte>.Empty;
            request = new PusherRequest(eventName, channel, data);
            error = "";
            return true;
        }
        catch (JsonException ex)
        {
            error = "the frame is not valid JSON: " + ex.Message;
            return false;
        }
    }

    /// <summary>The data as an object: itself, or the object a JSON string holds. Null when it is neither.</summary>
    public JsonDocument? DataObject()
    {
        if (Data.IsEmpty)
        {
            return null;
        }
        try
        {
            var document = JsonDocument.Parse(Data, new JsonDocumentOptions { MaxDepth = MaxDepth });
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                return document;
            }
            if (document.RootElement.ValueKind == JsonValueKind.String && document.RootElement.GetString() is { } text)
            {
                document.Dispose();
                var inner = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = MaxDepth });
                if (inner.RootElement.ValueKind == JsonValueKind.Object)
                {
                    return inner;
                }
                inner.Dispose();
                return null;
            }
            document.Dispose();
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A string field of <paramref name="data"/>, null when missing or not a string.</summary>
    public static string? StringField(JsonDocument? data, string name) =>
        data is not null && data.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
