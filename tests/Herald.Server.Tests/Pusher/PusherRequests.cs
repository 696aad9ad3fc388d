using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Herald.Core.Apps;

namespace Herald.Server.Tests.Pusher;

/// <summary>
/// Signed requests to the Pusher HTTP API, signed here the way the Pusher docs define it (written for the tests, not
/// the server's code, and checked against the docs' worked example), with hooks to break one rule at a time.
/// </summary>
internal sealed class PusherRequests(HttpClient http, string appId, string key, string secret)
{
    public PusherRequests(TestServer server, string appId, string key, string secret) : this(server.Http, appId, key, secret)
    {
    }

    public PusherRequests(TestServer server, AppOptions app) : this(server.Http, app.Id, app.Key, app.Secret)
    {
    }

    /// <summary>The Pusher docs' signature: hex HMAC-SHA256 of METHOD\nPATH\nsorted lower-cased query, unescaped.</summary>
    public static string Sign(string secret, string method, string path, IEnumerable<KeyValuePair<string, string>> query)
    {
        var text = method + "\n" + path + "\n" + string.Join("&", query.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value));
        return Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(text)));
    }

    public Task<HttpResponseMessage> PostAsync(string path, string body, Action<Dictionary<string, string>>? beforeSigning = null,
        Action<Dictionary<string, string>>? afterSigning = null, DateTimeOffset? at = null) =>
        SendAsync(HttpMethod.Post, path, body, null, beforeSigning, afterSigning, at);

    public Task<HttpResponseMessage> GetAsync(string path, IReadOnlyDictionary<string, string>? query = null,
        Action<Dictionary<string, string>>? beforeSigning = null, Action<Dictionary<string, string>>? afterSigning = null, DateTimeOffset? at = null) =>
        SendAsync(HttpMethod.Get, path, null, query, beforeSigning, afterSigning, at);

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? body, IReadOnlyDictionary<string, string>? extra,
        Action<Dictionary<string, string>>? beforeSigning, Action<Dictionary<string, string>>? afterSigning, DateTimeOffset? at)
    {
        var fullPath = $"/apps/{appId}{path}";
        var query = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["auth_key"] = key,
            ["auth_timestamp"] = (at ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
            ["auth_version"] = "1.0",
        };
        if (body is { Length: > 0 })
        {
            query["body_md5"] = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(body)));
        }
        foreach (var (k, v) in extra ?? new Dictionary<string, string>())
        {
            query[k] = v;
        }
        beforeSigning?.Invoke(query);
        query["auth_signature"] = Sign(secret, method.Method, fullPath, query);
        afterSigning?.Invoke(query);
        var url = fullPath + "?" + string.Join("&", query.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)));
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        return await http.SendAsync(request).DefaultTimeout();
    }
}
