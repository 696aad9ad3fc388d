using System.Buffers;
using System.Text;

namespace Herald.Server.Transports.WebSockets;

/// <summary>What the first bytes of a connection tell: wait for more, hand it to Kestrel, or a WebSocket upgrade.</summary>
internal enum HeadVerdict
{
    NeedMore,
    PassOn,
    Upgrade,
}

/// <summary>
/// A clean HTTP/1.1 WebSocket upgrade (RFC 6455 4.1), parsed from a connection's first bytes: a GET with an
/// origin-form target outside <c>/api</c>, one Host, <c>Upgrade: websocket</c>, <c>Connection: upgrade</c>,
/// <c>Sec-WebSocket-Version: 13</c>, a key of 16 bytes in base64, and no body. Anything else, or anything this parser
/// does not fully understand (encoded paths, folded lines, duplicate headers, non-ASCII bytes), is left to Kestrel,
/// which answers it as it always did; so a request this parser accepts is one the HTTP path would have upgraded too.
/// </summary>
internal sealed record UpgradeRequest(string Path, string Query, string Key, string? Origin, string? Protocols, int HeadLength)
{
    /// <summary>Heads longer than this go to Kestrel (its own limit answers 431).</summary>
    public const int MaxHeadBytes = 8192;

    /// <summary>Looks at the bytes received so far; <paramref name="request"/> is set for <see cref="HeadVerdict.Upgrade"/>.</summary>
    public static HeadVerdict Inspect(ReadOnlySequence<byte> received, out UpgradeRequest? request)
    {
        request = null;
        var method = "GET /"u8;
        var prefix = (int)Math.Min(received.Length, method.Length);
        Span<byte> start = stackalloc byte[5];
        received.Slice(0, prefix).CopyTo(start);
        if (!start[..prefix].SequenceEqual(method[..prefix]))
        {
            return HeadVerdict.PassOn; // not a GET with a path: POST /api/..., HTTP/2 preface, garbage
        }
        var reader = new SequenceReader<byte>(received);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> head, "\r\n\r\n"u8))
        {
            return received.Length >= MaxHeadBytes ? HeadVerdict.PassOn : HeadVerdict.NeedMore;
        }
        if (head.Length + 4 > MaxHeadBytes)
        {
            return HeadVerdict.PassOn;
        }
        Span<byte> bytes = stackalloc byte[(int)head.Length];
        head.CopyTo(bytes);
        request = Parse(bytes, (int)head.Length + 4);
        return request is null ? HeadVerdict.PassOn : HeadVerdict.Upgrade;
    }

    private static UpgradeRequest? Parse(ReadOnlySpan<byte> head, int headLength)
    {
        foreach (var b in head)
        {
            if (b >= 0x7F || (b < 0x20 && b is not ((byte)'\r' or (byte)'\n' or (byte)'\t')))
            {
                return null;
            }
        }
        var text = Encoding.ASCII.GetString(head);
        var lines = text.Split("\r\n");
        var requestLine = lines[0];
        if (!requestLine.StartsWith("GET /", StringComparison.Ordinal) || !requestLine.EndsWith(" HTTP/1.1", StringComparison.Ordinal))
        {
            return null;
        }
        var target = requestLine[4..^9];
        if (target.Length == 0 || target.Contains(' ') || target.Contains('#') || target.Contains('\t'))
        {
            return null;
        }
        var question = target.IndexOf('?');
        var path = question < 0 ? target : target[..question];
        var query = question < 0 ? "" : target[question..];
        if (path.Contains('%'))
        {
            return null; // percent-encoded paths are Kestrel's to decode
        }
        if (path.StartsWith("/api", StringComparison.OrdinalIgnoreCase) || path.Contains("/.", StringComparison.Ordinal) || path.Contains("//", StringComparison.Ordinal))
        {
            return null; // the API (and anything Kestrel would normalise) stays on the HTTP path
        }
        string? host = null, upgrade = null, connection = null, version = null, key = null, origin = null, protocols = null;
        for (var i = 1; i < lines.Length; i++)
        {
            var line = lines[i];
            var colon = line.IndexOf(':');
            if (colon <= 0 || line[0] is ' ' or '\t' || char.IsWhiteSpace(line[colon - 1]) || line.Contains('\n') || line.Contains('\r'))
            {
                return null; // obs-fold, no colon, whitespace before the colon, a bare CR or LF
            }
            var name = line.AsSpan(0, colon);
            var value = line[(colon + 1)..].Trim(' ', '\t');
            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase))
            {
                if (!Once(ref host, value)) return null;
            }
            else if (name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase))
            {
                if (!Once(ref upgrade, value)) return null;
            }
            else if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
            {
                connection = connection is null ? value : connection + "," + value;
            }
            else if (name.Equals("Sec-WebSocket-Version", StringComparison.OrdinalIgnoreCase))
            {
                if (!Once(ref version, value)) return null;
            }
            else if (name.Equals("Sec-WebSocket-Key", StringComparison.OrdinalIgnoreCase))
            {
                if (!Once(ref key, value)) return null;
            }
            else if (name.Equals("Origin", StringComparison.OrdinalIgnoreCase))
            {
                if (!Once(ref origin, value)) return null;
            }
            else if (name.Equals("Sec-WebSocket-Protocol", StringComparison.OrdinalIgnoreCase))
            {
                protocols = protocols is null ? value : protocols + "," + value;
            }
            else if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                return null; // a GET with a body is Kestrel's to judge
            }
            else if (!IsToken(name))
            {
                return null;
            }
        }
        if (string.IsNullOrEmpty(host)
            || !string.Equals(upgrade, "websocket", StringComparison.OrdinalIgnoreCase)
            || connection is null || !HasToken(connection, "upgrade")
            || version != "13"
            || key is null || !IsValidKey(key))
        {
            return null;
        }
        return new UpgradeRequest(path, query, key, origin, protocols, headLength);
    }

    private static bool Once(ref string? slot, string value)
    {
        if (slot is not null)
        {
            return false;
        }
        slot = value;
        return true;
    }

    private static bool HasToken(string list, string token)
    {
        foreach (var range in list.AsSpan().Split(','))
        {
            if (list.AsSpan()[range].Trim().Equals(token, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    private static bool IsToken(ReadOnlySpan<char> name)
    {
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c)))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>RFC 6455 4.2.1: the key is 16 random bytes in base64 (24 characters).</summary>
    private static bool IsValidKey(string key)
    {
        Span<byte> decoded = stackalloc byte[18];
        return key.Length == 24 && Convert.TryFromBase64String(key, decoded, out var written) && written == 16;
    }
}
