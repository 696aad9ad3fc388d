using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Herald.Core.Apps;

namespace Herald.Server.Pusher;

/// <summary>
/// The Pusher HTTP API's request signature, as Pusher defines it: <c>auth_key</c> (the app's key),
/// <c>auth_timestamp</c> (Unix seconds, within 600 s of the server's clock), <c>auth_version</c> 1.0, <c>body_md5</c>
/// (hex MD5 of a non-empty body) and <c>auth_signature</c>: the hex HMAC-SHA256, keyed with the app's secret, of
/// <c>METHOD\nPATH\nQUERY</c>, where QUERY is every other query parameter with its key lower-cased, sorted by key and
/// joined as <c>key=value&amp;...</c> without URL escaping.
/// </summary>
internal static class PusherSignature
{
    /// <summary>How far <c>auth_timestamp</c> may be from the server's clock, either way.</summary>
    public static readonly TimeSpan TimestampWindow = TimeSpan.FromSeconds(600);

    /// <summary>The string a request's signature covers.</summary>
    public static string StringToSign(string method, string path, IEnumerable<KeyValuePair<string, string>> query)
    {
        var pairs = query
            .Select(p => (Key: p.Key.ToLowerInvariant(), p.Value))
            .Where(p => p.Key != "auth_signature")
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => p.Key + "=" + p.Value);
        return method.ToUpperInvariant() + "\n" + path + "\n" + string.Join("&", pairs);
    }

    /// <summary>The hex HMAC-SHA256 of <paramref name="stringToSign"/> keyed with <paramref name="secret"/>.</summary>
    public static string Sign(string secret, string stringToSign) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(stringToSign)));

    /// <summary>
    /// Checks the query of a request to <paramref name="app"/>: every parameter, the key, the version, the timestamp
    /// window and the signature (which covers <c>body_md5</c>, so the body is checked after, by
    /// <see cref="TryVerifyBody"/>, without reading anything an unsigned caller sends). The first broken rule is
    /// answered with a message that says what to fix, never the secret.
    /// </summary>
    public static bool TryVerifyQuery(AppOptions app, string method, string path, IReadOnlyList<KeyValuePair<string, string>> query,
        DateTimeOffset now, out string error)
    {
        foreach (var required in (ReadOnlySpan<string>)["auth_key", "auth_timestamp", "auth_version", "auth_signature"])
        {
            if (string.IsNullOrEmpty(Get(query, required)))
            {
                error = $"Missing authentication parameter: {required} (requests must be signed as the Pusher HTTP API defines)";
                return false;
            }
        }
        if (Get(query, "auth_key") != app.Key)
        {
            error = "Unknown auth_key";
            return false;
        }
        if (Get(query, "auth_version") != "1.0")
        {
            error = $"Unsupported auth_version '{Get(query, "auth_version")}': only 1.0 is supported";
            return false;
        }
        var timestampText = Get(query, "auth_timestamp")!;
        if (!long.TryParse(timestampText, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || seconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
        {
            error = $"Invalid auth_timestamp '{timestampText}': expected Unix time in whole seconds";
            return false;
        }
        var given = DateTimeOffset.FromUnixTimeSeconds(seconds);
        if ((given - now).Duration() > TimestampWindow)
        {
            error = $"Timestamp expired: Given timestamp ({given:yyyy-MM-ddTHH:mm:ssZ}) not within {TimestampWindow.TotalSeconds:0}s of server time ({now.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ})";
            return false;
        }
        var stringToSign = StringToSign(method, path, query);
        var expected = Sign(app.Secret, stringToSign);
        var sent = Get(query, "auth_signature")!;
        // Constant time: how much of a guess matched must not show in how long the refusal takes.
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(sent.ToLowerInvariant())))
        {
            error = $"Invalid signature: you should have sent HmacSHA256Hex({Quote(stringToSign)}, your_secret_key), but you sent {Quote(sent)}";
            return false;
        }
        error = "";
        return true;
    }

    /// <summary>Checks the body against the signed <c>body_md5</c>: required for a body that is not empty, and equal to its hex MD5.</summary>
    public static bool TryVerifyBody(IReadOnlyList<KeyValuePair<string, string>> query, ReadOnlySpan<byte> body, out string error)
    {
        var bodyMd5 = Get(query, "body_md5");
        if (body.Length > 0 && string.IsNullOrEmpty(bodyMd5))
        {
            error = "Missing authentication parameter: body_md5 (the hex MD5 of the request body)";
            return false;
        }
        if (bodyMd5 is not null)
        {
            var actual = Convert.ToHexStringLower(MD5.HashData(body));
            if (!string.Equals(bodyMd5, actual, StringComparison.OrdinalIgnoreCase))
            {
                error = $"Invalid body_md5: the MD5 of the body received is {actual}, but you sent {bodyMd5}";
                return false;
            }
        }
        error = "";
        return true;
    }

    private static string? Get(IReadOnlyList<KeyValuePair<string, string>> query, string key) =>
        query.FirstOrDefault(p => string.Equals(p.Key, key, StringComparison.OrdinalIgnoreCase)).Value;

    private static string Quote(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
