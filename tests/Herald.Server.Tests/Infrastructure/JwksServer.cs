using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Herald.Server.Tests.Infrastructure;

/// <summary>A JWKS endpoint the test serves itself on loopback, with RSA keys it can rotate, counting fetches.</summary>
public sealed class JwksServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<RsaSecurityKey> _published = [];
    private int _fetches;

    private JwksServer(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public int Fetches => Volatile.Read(ref _fetches);

    public static async Task<JwksServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new JwksServer(app);
        app.MapGet("/jwks.json", (HttpContext context) =>
        {
            Interlocked.Increment(ref server._fetches);
            List<RsaSecurityKey> keys;
            lock (server._published)
            {
                keys = [.. server._published];
            }
            var body = JsonSerializer.Serialize(new
            {
                keys = keys.Select(k =>
                {
                    var p = k.Rsa.ExportParameters(false);
                    return new { kty = "RSA", use = "sig", alg = "RS256", kid = k.KeyId, n = Base64UrlEncoder.Encode(p.Modulus), e = Base64UrlEncoder.Encode(p.Exponent) };
                }),
            });
            return Results.Text(body, "application/json");
        });
        await app.StartAsync().DefaultTimeout();
        server.Url = new Uri(app.Urls.First() + "/jwks.json");
        return server;
    }

    /// <summary>Creates a key and publishes it in the set.</summary>
    public RsaSecurityKey AddKey(string kid)
    {
        var key = new RsaSecurityKey(RSA.Create(2048)) { KeyId = kid };
        lock (_published)
        {
            _published.Add(key);
        }
        return key;
    }

    public static string Sign(SecurityKey key, string algorithm, string user, TimeSpan ttl, string? extraClaimsJson = null)
    {
        var now = DateTimeOffset.UtcNow;
        var payload = $$"""{"sub":"{{user}}","iat":{{now.ToUnixTimeSeconds()}},"exp":{{(now + ttl).ToUnixTimeSeconds()}}{{(extraClaimsJson is null ? "" : "," + extraClaimsJson)}}}""";
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(payload, new SigningCredentials(key, algorithm));
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
