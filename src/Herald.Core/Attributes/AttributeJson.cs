using System.Buffers;
using System.Text;
using System.Text.Json;
using Herald.Protocol;

namespace Herald.Core.Attributes;

/// <summary>
/// Reads attribute objects and <c>where</c> filters from JSON. Values may be strings, numbers or booleans; numbers
/// and booleans are compared by their JSON text, so <c>2</c> and <c>"2"</c> are the same value.
/// </summary>
public static class AttributeJson
{
    /// <summary>Longest attribute key.</summary>
    public const int MaxKeyLength = 128;

    /// <summary>Longest attribute value.</summary>
    public const int MaxValueLength = 1024;

    /// <summary>Parses a flat JSON object into an attribute set.</summary>
    public static bool TryParseAttributes(ReadOnlySpan<byte> utf8, int maxAttributes, out AttributeSet attributes, out int errorCode, out string error)
    {
        attributes = AttributeSet.Empty;
        var pairs = new List<KeyValuePair<string, string>>();
        try
        {
            var reader = new Utf8JsonReader(utf8);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return Fail(out errorCode, out error, ErrorCodes.InvalidAttributes,
                    "attributes must be a JSON object such as {\"school_id\":\"2\",\"school_class_id\":\"1\"}");
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var key = reader.GetString()!;
                reader.Read();
                if (!TryReadScalar(ref reader, out var value))
                {
                    return Fail(out errorCode, out error, ErrorCodes.InvalidAttributes,
                        $"attribute \"{Shorten(key)}\" must be a string, number or boolean");
                }
                if (!ValidKeyValue(key, value, out error))
                {
                    errorCode = ErrorCodes.InvalidAttributes;
                    return false;
                }
                pairs.Add(new(key, value));
            }
            if (reader.Read())
            {
                return Fail(out errorCode, out error, ErrorCodes.BadRequest, "invalid JSON after the attribute object");
            }
        }
        catch (JsonException ex)
        {
            return Fail(out errorCode, out error, ErrorCodes.BadRequest, "invalid JSON: " + ex.Message);
        }
        catch (InvalidOperationException)
        {
            // Text that JsonText refuses where it enters: this only keeps the parser from ever throwing.
            return Fail(out errorCode, out error, ErrorCodes.InvalidText, "the attributes are not valid text (UTF-8 without lone surrogate escapes)");
        }
        attributes = AttributeSet.From(pairs);
        if (attributes.Count > maxAttributes)
        {
            return Fail(out errorCode, out error, ErrorCodes.LimitExceeded,
                $"{attributes.Count} attributes given, at most {maxAttributes} allowed (setting max_attributes)");
        }
        errorCode = 0;
        error = "";
        return true;
    }

    /// <summary>
    /// Reads a <c>where</c> object at the reader's current StartObject token: each key maps to a value or an array of
    /// values (any of them matches).
    /// </summary>
    public static bool TryReadWhere(ref Utf8JsonReader reader, out WhereFilter where, out string error) =>
        TryReadWhere(ref reader, StringComparer.Ordinal, out where, out error);

    /// <summary>
    /// <see cref="TryReadWhere(ref Utf8JsonReader, out WhereFilter, out string)"/> with the comparer that removes
    /// repeated values and looks them up: linear in the number of values (tests count its calls).
    /// </summary>
    internal static bool TryReadWhere(ref Utf8JsonReader reader, IEqualityComparer<string> comparer, out WhereFilter where, out string error)
    {
        where = WhereFilter.All;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            error = "\"where\" must be an object such as {\"school_id\":\"2\"}";
            return false;
        }
        var clauses = new List<WhereClause>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = reader.GetString()!;
            reader.Read();
            string[] values;
            if (reader.TokenType == JsonTokenType.StartArray)
            {
                var list = new List<string>();
                var distinct = new HashSet<string>(comparer); // a list scan per value made 100,000 values take 25 s
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (!TryReadScalar(ref reader, out var v))
                    {
                        error = $"\"where\".\"{Shorten(key)}\" may only list strings, numbers or booleans";
                        return false;
                    }
                    if (distinct.Add(v))
                    {
                        list.Add(v);
                    }
                }
                values = [.. list];
            }
            else if (TryReadScalar(ref reader, out var single))
            {
                values = [single];
            }
            else
            {
                error = $"\"where\".\"{Shorten(key)}\" must be a string, number, boolean or an array of them";
                return false;
            }
            if (!seen.Add(key))
            {
                error = $"\"where\" names \"{Shorten(key)}\" twice";
                return false;
            }
            clauses.Add(new WhereClause(key, values, comparer));
        }
        where = clauses.Count == 0 ? WhereFilter.All : new WhereFilter(clauses);
        error = "";
        return true;
    }

    private static bool TryReadScalar(ref Utf8JsonReader reader, out string value)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                value = reader.GetString()!;
                return true;
            case JsonTokenType.Number:
                value = Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan);
                return true;
            case JsonTokenType.True:
                value = "true";
                return true;
            case JsonTokenType.False:
                value = "false";
                return true;
            default:
                value = "";
                reader.Skip();
                return false;
        }
    }

    private static bool ValidKeyValue(string key, string value, out string error)
    {
        if (key.Length is 0 or > MaxKeyLength)
        {
            error = $"attribute keys must be 1 to {MaxKeyLength} characters";
            return false;
        }
        if (value.Length > MaxValueLength)
        {
            error = $"attribute \"{Shorten(key)}\" is longer than {MaxValueLength} characters";
            return false;
        }
        error = "";
        return true;
    }

    private static string Shorten(string s) => s.Length > 40 ? s[..40] + "..." : s;

    private static bool Fail(out int code, out string error, int c, string message)
    {
        code = c;
        error = message;
        return false;
    }

    /// <summary>Writes <paramref name="where"/> as JSON that <see cref="TryReadWhere(ref Utf8JsonReader, out WhereFilter, out string)"/> reads back: <c>{"key":["value",...]}</c>.</summary>
    public static byte[] WriteWhere(WhereFilter where)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            foreach (var clause in where.Clauses)
            {
                w.WriteStartArray(clause.Key);
                foreach (var value in clause.Values)
                {
                    w.WriteStringValue(value);
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads a filter written by <see cref="WriteWhere"/>; null when it is not one.</summary>
    public static WhereFilter? ReadWhere(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        return reader.Read() && TryReadWhere(ref reader, out var where, out _) ? where : null;
    }
}
