using System.Text.Json;

namespace Herald.Protocol;

/// <summary>Finds top-level fields of a small JSON object (command params, API bodies) without building a document.</summary>
public static class JsonObjectFields
{
    /// <summary>
    /// Locates the value of top-level property <paramref name="name"/> in <paramref name="utf8Object"/>, which must be
    /// valid JSON in valid text (checked once where it entered, see <see cref="JsonText"/>). Returns the raw UTF-8 of the value (an object, array, string with quotes, number, ...).
    /// </summary>
    public static bool TryGetRaw(ReadOnlyMemory<byte> utf8Object, ReadOnlySpan<byte> name, out ReadOnlyMemory<byte> raw, out JsonTokenType type)
    {
        raw = default;
        type = JsonTokenType.None;
        if (utf8Object.IsEmpty)
        {
            return false;
        }
        var reader = new Utf8JsonReader(utf8Object.Span);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var match = reader.ValueTextEquals(name);
            reader.Read();
            if (match)
            {
                type = reader.TokenType;
                var start = (int)reader.TokenStartIndex;
                reader.Skip();
                raw = utf8Object.Slice(start, (int)reader.BytesConsumed - start);
                return true;
            }
            reader.Skip();
        }
        return false;
    }

    /// <summary>Reads a top-level string property; false when it is absent, null when it is not a string.</summary>
    public static bool TryGetString(ReadOnlyMemory<byte> utf8Object, ReadOnlySpan<byte> name, out string? value)
    {
        value = null;
        if (!TryGetRaw(utf8Object, name, out var raw, out var type))
        {
            return false;
        }
        if (type == JsonTokenType.String)
        {
            var reader = new Utf8JsonReader(raw.Span);
            reader.Read();
            value = reader.GetString();
        }
        return true;
    }
}
