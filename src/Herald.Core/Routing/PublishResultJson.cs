using System.Buffers;
using System.Text.Json;
using Herald.Core.Engine;

namespace Herald.Core.Routing;

/// <summary>Where a publish was stored, as JSON, so another node can answer a retry with the first publish's result.</summary>
internal static class PublishResultJson
{
    public static byte[] Write(PublishResult result)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartObject("c"u8);
            foreach (var (channel, position) in result.Positions ?? new Dictionary<string, StreamPosition>())
            {
                w.WriteStartArray(channel);
                w.WriteNumberValue(position.Offset);
                w.WriteStringValue(position.Epoch);
                w.WriteEndArray();
            }
            w.WriteEndObject();
            w.WriteStartObject("u"u8);
            foreach (var (user, offset) in result.InboxOffsets ?? new Dictionary<string, ulong>())
            {
                w.WriteNumber(user, offset);
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static PublishResult Read(byte[] json, int recipients)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var positions = root.GetProperty("c").EnumerateObject()
            .ToDictionary(p => p.Name, p => new StreamPosition(p.Value[0].GetUInt64(), p.Value[1].GetString()!), StringComparer.Ordinal);
        var inbox = root.GetProperty("u").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetUInt64(), StringComparer.Ordinal);
        return new PublishResult(recipients)
        {
            Positions = positions.Count > 0 ? positions : null,
            InboxOffsets = inbox.Count > 0 ? inbox : null,
        };
    }
}
