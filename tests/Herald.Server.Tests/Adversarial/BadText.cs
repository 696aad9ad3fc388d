using System.Text;

namespace Herald.Server.Tests.Adversarial;

/// <summary>
/// Text no conforming client can read, as it appears inside a JSON string, and the good neighbours that must still
/// pass. Cases are written into templates where <c>BAD</c> stands for the bytes.
/// </summary>
public static class BadText
{
    /// <summary>Lone surrogate escapes: valid UTF-8, so they also pass a WebSocket's own check of text frames.</summary>
    public static readonly IReadOnlyDictionary<string, byte[]> Escapes = new Dictionary<string, byte[]>
    {
        ["lone high surrogate escape"] = "\\ud800"u8.ToArray(),
        ["lone low surrogate escape"] = "\\udc00"u8.ToArray(),
        ["high surrogate escape then a letter"] = "\\uD800\\u0041"u8.ToArray(),
        ["surrogate escapes in the wrong order"] = "\\ude00\\ud83d"u8.ToArray(),
        ["high surrogate escape at the end"] = "x\\udbff"u8.ToArray(),
    };

    /// <summary>Bytes that are not UTF-8 (a WebSocket text frame with them is closed with 1007 by the transport).</summary>
    public static readonly IReadOnlyDictionary<string, byte[]> Bytes = new Dictionary<string, byte[]>
    {
        ["byte 0xFF"] = [(byte)'h', (byte)'i', 0xFF],
        ["overlong NUL"] = [0xC0, 0x80],
        ["UTF-8 encoded surrogate"] = [0xED, 0xA0, 0x80],
        ["truncated sequence"] = [0xE2, 0x82],
    };

    /// <summary>Every bad case: escapes and bytes.</summary>
    public static IReadOnlyDictionary<string, byte[]> All { get; } =
        Escapes.Concat(Bytes).ToDictionary(p => p.Key, p => p.Value);

    /// <summary>Good text that looks close to the bad: it must be accepted and reach clients unchanged.</summary>
    public static readonly IReadOnlyDictionary<string, byte[]> Good = new Dictionary<string, byte[]>
    {
        ["escaped surrogate pair"] = "\\ud83d\\ude00"u8.ToArray(),
        ["an emoji as UTF-8"] = "😀"u8.ToArray(),
        ["escaped backslash before ud800"] = "\\\\ud800"u8.ToArray(),
        ["escaped NUL"] = "\\u0000"u8.ToArray(),
        ["a noncharacter"] = "\\uffff"u8.ToArray(),
    };

    /// <summary><paramref name="template"/> (UTF-8) with every <c>BAD</c> replaced by <paramref name="text"/>.</summary>
    public static byte[] Into(string template, byte[] text)
    {
        var parts = template.Split("BAD");
        var result = new List<byte>();
        for (var i = 0; i < parts.Length; i++)
        {
            if (i > 0)
            {
                result.AddRange(text);
            }
            result.AddRange(Encoding.UTF8.GetBytes(parts[i]));
        }
        return [.. result];
    }
}
