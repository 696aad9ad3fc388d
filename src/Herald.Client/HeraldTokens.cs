using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Herald.Client;

/// <summary>Mints HS256 tokens for Herald on the backend (no JWT library needed).</summary>
public static class HeraldTokens
{
    /// <summary>A connection token: user, lifetime, trusted attributes, channels to subscribe, presence info.</summary>
    public static string Connection(string secret, string user, TimeSpan ttl, IReadOnlyDictionary<string, string>? attrs = null,
        IEnumerable<string>? channels = null, JsonNode? info = null)
    {
        var payload = Claims(user, ttl);
        if (attrs is { Count: > 0 })
        {
            payload["attrs"] = new JsonObject([.. attrs.Select(a => KeyValuePair.Create(a.Key, (JsonNode?)a.Value))]);
        }
        if (channels is not null)
        {
            payload["channels"] = new JsonArray([.. channels.Select(c => (JsonNode?)c)]);
        }
        if (info is not null)
        {
            payload["info"] = info.DeepClone();
        }
        return Sign(secret, payload);
    }

    /// <summary>A subscription token for a private channel.</summary>
    public static string Subscription(string secret, string user, string channel, TimeSpan ttl)
    {
        var payload = Claims(user, ttl);
        payload["channel"] = channel;
        return Sign(secret, payload);
    }

    private static JsonObject Claims(string user, TimeSpan ttl)
    {
        var now = DateTimeOffset.UtcNow;
        return new JsonObject { ["sub"] = user, ["iat"] = now.ToUnixTimeSeconds(), ["exp"] = (now + ttl).ToUnixTimeSeconds() };
    }

    private static string Sign(string secret, JsonObject payload)
    {
        var signingInput = Base64Url("""{"alg":"HS256","typ":"JWT"}"""u8) + "." + Base64Url(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes(signingInput));
        return signingInput + "." + Base64Url(signature);
    }

    private static string Base64Url(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
