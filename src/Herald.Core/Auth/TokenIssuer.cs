using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Herald.Core.Auth;

/// <summary>Mints HS256 tokens with a shared secret: the <c>herald token</c> command and tests use it.</summary>
public static class TokenIssuer
{
    /// <summary>Creates a connection token (or, with <paramref name="channel"/>, a subscription token).</summary>
    public static string Create(string secret, string? user, TimeSpan? ttl, IReadOnlyDictionary<string, string>? attrs = null,
        IReadOnlyList<string>? channels = null, string? channel = null, JsonNode? info = null, string? issuer = null,
        string? audience = null, DateTimeOffset? now = null)
    {
        var issuedAt = now ?? DateTimeOffset.UtcNow;
        var payload = new JsonObject
        {
            ["sub"] = user ?? "",
            ["iat"] = issuedAt.ToUnixTimeSeconds(),
        };
        if (ttl is { } lifetime)
        {
            payload["exp"] = (issuedAt + lifetime).ToUnixTimeSeconds();
        }
        if (attrs is { Count: > 0 })
        {
            var o = new JsonObject();
            foreach (var (k, v) in attrs)
            {
                o[k] = v;
            }
            payload["attrs"] = o;
        }
        if (channels is { Count: > 0 })
        {
            payload["channels"] = new JsonArray([.. channels.Select(c => (JsonNode?)JsonValue.Create(c))]);
        }
        if (channel is not null)
        {
            payload["channel"] = channel;
        }
        if (info is not null)
        {
            payload["info"] = info;
        }
        if (issuer is not null)
        {
            payload["iss"] = issuer;
        }
        if (audience is not null)
        {
            payload["aud"] = audience;
        }
        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        return handler.CreateToken(payload.ToJsonString(), new SigningCredentials(HmacKey.For(secret), SecurityAlgorithms.HmacSha256));
    }
}
