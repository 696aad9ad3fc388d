using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Herald.Core.Engine;

namespace Herald.Redis.Internal;

/// <summary>
/// A presence entry as stored in Redis: <c>{"n":node,"u":user,"i":info}</c>, with info the token's raw JSON (or null).
/// Non-ASCII text is written as UTF-8, not escaped, so the scripts' <c>cjson</c> reads back the very bytes the C# side
/// sends as arguments (the per-user counts are keyed by them).
/// </summary>
internal static class PresenceEntryJson
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Write(PresenceEntry entry, string node)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + (entry.Info?.Length ?? 0));
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("n"u8, node);
            writer.WriteString("u"u8, entry.UserId);
            writer.WritePropertyName("i"u8);
            if (entry.Info is { Length: > 0 } info)
            {
                writer.WriteRawValue(info);
            }
            else
            {
                writer.WriteNullValue();
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static PresenceEntry Read(string clientId, ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        var user = "";
        byte[]? info = null;
        reader.Read(); // {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("u"u8))
            {
                reader.Read();
                user = reader.GetString() ?? "";
            }
            else if (reader.ValueTextEquals("i"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.Null)
                {
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    info = json[start..(int)reader.BytesConsumed].ToArray();
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return new PresenceEntry(clientId, user, info);
    }
}
