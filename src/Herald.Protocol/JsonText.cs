using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Herald.Protocol;

/// <summary>
/// The check every text from the network passes once, where it enters (a WebSocket message, an HTTP body, a UDP
/// datagram, a token's claims), before it is parsed, stored or sent on: it must be valid UTF-8, and no JSON string in
/// it may hold a lone surrogate escape (<c>"\ud800"</c> without its pair). Either would reach clients as text a
/// conforming client rejects (a WebSocket text frame must be valid UTF-8; a lone surrogate has no UTF-8 form), so
/// it is refused with <see cref="ErrorCodes.InvalidText"/>. Text that passes is copied to recipients as it is.
/// </summary>
public static class JsonText
{
    /// <summary>
    /// True when <paramref name="utf8"/> is valid UTF-8 without lone surrogate escapes. Vectorised and allocation-free:
    /// text without a backslash costs one pass of <see cref="Utf8.IsValid"/>.
    /// </summary>
    public static bool IsValid(ReadOnlySpan<byte> utf8) => Utf8.IsValid(utf8) && LoneSurrogateAt(utf8) < 0;

    /// <summary>
    /// Checks <paramref name="utf8"/> (see <see cref="IsValid"/>); on failure <paramref name="error"/> names the field
    /// that holds the bad text (<c>data</c>, <c>where.school_id</c>, <c>channels[2]</c>, ...) and what is wrong with it.
    /// </summary>
    public static bool TryValidate(ReadOnlySpan<byte> utf8, out string error)
    {
        if (IsValid(utf8))
        {
            error = "";
            return true;
        }
        error = Describe(utf8);
        return false;
    }

    /// <summary>
    /// Position of the first <c>\u</c> escape that is a lone surrogate, or -1. Backslashes only occur inside JSON
    /// strings (elsewhere the JSON is invalid and its parser refuses it), and each escape is read whole, so an escaped
    /// backslash followed by <c>u</c> (<c>"\\ud800"</c>, the six characters) is not mistaken for one.
    /// </summary>
    private static int LoneSurrogateAt(ReadOnlySpan<byte> utf8)
    {
        var i = utf8.IndexOf((byte)'\\');
        while (i >= 0)
        {
            int next;
            if (i + 1 >= utf8.Length)
            {
                return -1; // a dangling backslash: invalid JSON, the parser says so
            }
            if (utf8[i + 1] != (byte)'u' || !TryReadHex4(utf8, i + 2, out var unit))
            {
                next = i + 2;
            }
            else if (char.IsHighSurrogate((char)unit))
            {
                if (i + 11 < utf8.Length && utf8[i + 6] == (byte)'\\' && utf8[i + 7] == (byte)'u'
                    && TryReadHex4(utf8, i + 8, out var low) && char.IsLowSurrogate((char)low))
                {
                    next = i + 12;
                }
                else
                {
                    return i;
                }
            }
            else if (char.IsLowSurrogate((char)unit))
            {
                return i;
            }
            else
            {
                next = i + 6;
            }
            var found = utf8[next..].IndexOf((byte)'\\');
            i = found < 0 ? -1 : next + found;
        }
        return -1;
    }

    private static bool TryReadHex4(ReadOnlySpan<byte> utf8, int start, out int value)
    {
        value = 0;
        if (start + 4 > utf8.Length)
        {
            return false;
        }
        for (var k = start; k < start + 4; k++)
        {
            var digit = HexDigit(utf8[k]);
            if (digit < 0)
            {
                return false;
            }
            value = value * 16 + digit;
        }
        return true;
    }

    private static int HexDigit(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    /// <summary>Says where the bad text is: walks the JSON (only on this error path) to name the field holding it.</summary>
    private static string Describe(ReadOnlySpan<byte> utf8)
    {
        var path = new List<string>();
        var indexes = new List<int>(); // per open container: -1 for an object, else the next array index
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 64 });
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        EnterValue(path, indexes);
                        indexes.Add(reader.TokenType == JsonTokenType.StartObject ? -1 : 0);
                        continue;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        indexes.RemoveAt(indexes.Count - 1);
                        LeaveValue(path, indexes);
                        continue;
                    case JsonTokenType.PropertyName:
                        var nameProblem = Problem(reader.ValueSpan);
                        if (nameProblem is not null)
                        {
                            return $"{(path.Count == 0 ? "a field name" : $"a field name in \"{Render(path)}\"")} {nameProblem}";
                        }
                        path.Add(Encoding.UTF8.GetString(reader.ValueSpan)); // escapes kept: a name for people
                        continue;
                    default:
                        EnterValue(path, indexes);
                        var problem = reader.TokenType == JsonTokenType.String ? Problem(reader.ValueSpan) : null;
                        if (problem is not null)
                        {
                            return path.Count == 0 ? $"the text {problem}" : $"\"{Render(path)}\" {problem}";
                        }
                        LeaveValue(path, indexes);
                        continue;
                }
            }
        }
        catch (JsonException)
        {
            // Invalid JSON as well: the position below is all there is to say.
        }
        return Utf8.IsValid(utf8)
            ? $"the text {LoneSurrogateProblem} (at byte {LoneSurrogateAt(utf8)})"
            : $"the text {InvalidUtf8Problem} (at byte {InvalidUtf8At(utf8)})";
    }

    private const string InvalidUtf8Problem = "is not valid UTF-8: send text encoded as UTF-8";

    private const string LoneSurrogateProblem =
        "holds a lone surrogate escape (\\ud800-\\udfff without its pair): escape a character beyond U+FFFF as a pair such as \\ud83d\\ude00, or send it as UTF-8";

    private static string? Problem(ReadOnlySpan<byte> raw) =>
        !Utf8.IsValid(raw) ? InvalidUtf8Problem : LoneSurrogateAt(raw) >= 0 ? LoneSurrogateProblem : null;

    /// <summary>A value starts: inside an array its path segment is its index.</summary>
    private static void EnterValue(List<string> path, List<int> indexes)
    {
        if (indexes.Count > 0 && indexes[^1] >= 0)
        {
            path.Add($"[{indexes[^1]}]");
        }
    }

    /// <summary>A value ended: drop its segment (a field name or an index) and count it in its array.</summary>
    private static void LeaveValue(List<string> path, List<int> indexes)
    {
        if (indexes.Count == 0)
        {
            return;
        }
        path.RemoveAt(path.Count - 1);
        if (indexes[^1] >= 0)
        {
            indexes[^1]++;
        }
    }

    /// <summary><c>where.school_id</c>, <c>channels[2]</c>.</summary>
    private static string Render(List<string> path)
    {
        var text = new StringBuilder();
        foreach (var segment in path)
        {
            if (text.Length > 0 && !segment.StartsWith('['))
            {
                text.Append('.');
            }
            text.Append(segment.Length > 64 ? segment[..64] + "..." : segment);
        }
        return text.ToString();
    }

    private static int InvalidUtf8At(ReadOnlySpan<byte> utf8)
    {
        var i = 0;
        while (i < utf8.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(utf8[i..], out _, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                return i;
            }
            i += consumed;
        }
        return -1;
    }
}
