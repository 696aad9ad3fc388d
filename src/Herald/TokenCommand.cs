using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Herald.Configuration;
using Herald.Core.Auth;

namespace Herald;

/// <summary>
/// <c>herald token</c> mints an HS256 connection or subscription token with the configured secret (or
/// <c>--secret</c>); <c>herald token check TOKEN</c> verifies one with the configured keys and prints its claims.
/// </summary>
internal static class TokenCommand
{
    public static Command Create(SettingOptions settingOptions)
    {
        var secret = new Option<string?>("--secret") { Description = "HS256 secret (default: setting token_secret)." };
        var user = new Option<string?>("--user") { Description = "User id (sub claim); omit for an anonymous token." };
        var ttl = new Option<string?>("--ttl") { Description = "Lifetime such as 30m, 1h, 7d... as 168h (default 1h); 0 for a token that never expires." };
        var attr = new Option<string[]>("--attr") { Description = "Trusted attribute key=value (attrs claim); repeatable." };
        var channel = new Option<string[]>("--channel") { Description = "Channel the server subscribes the connection to (channels claim); repeatable." };
        var info = new Option<string?>("--info") { Description = "JSON shown in presence (info claim)." };
        var subscription = new Option<string?>("--subscription") { Description = "Make a subscription token for this private channel (channel claim) instead." };
        var token = new Command("token", "Print a signed token for a connection (or, with --subscription, for a private channel).")
        {
            settingOptions.Config, secret, user, ttl, attr, channel, info, subscription,
        };
        token.SetAction(parse =>
        {
            var settings = Load(settingOptions, parse, parse.GetValue(secret));
            if (settings is null)
            {
                return 2;
            }
            var key = settings.String("token_secret");
            if (string.IsNullOrEmpty(key))
            {
                Console.Error.WriteLine("herald: no secret: pass --secret or set token_secret (config file or HERALD_TOKEN_SECRET).");
                return 2;
            }
            TimeSpan? lifetime = TimeSpan.FromHours(1);
            var ttlText = parse.GetValue(ttl);
            if (ttlText is not null)
            {
                if (!Settings.TryParseDuration(ttlText, out var parsed))
                {
                    Console.Error.WriteLine($"herald: --ttl '{ttlText}' is not a duration such as 30m or 1h.");
                    return 2;
                }
                lifetime = parsed == TimeSpan.Zero ? null : parsed;
            }
            var attrs = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in parse.GetValue(attr) ?? [])
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    Console.Error.WriteLine($"herald: --attr takes key=value, got '{pair}'.");
                    return 2;
                }
                attrs[pair[..equals]] = pair[(equals + 1)..];
            }
            JsonNode? infoNode = null;
            var infoText = parse.GetValue(info);
            if (infoText is not null)
            {
                try
                {
                    infoNode = JsonNode.Parse(infoText);
                }
                catch (JsonException ex)
                {
                    Console.Error.WriteLine($"herald: --info is not JSON: {ex.Message}");
                    return 2;
                }
            }
            var issuer = settings.String("token_issuer");
            var audience = settings.String("token_audience");
            Console.WriteLine(TokenIssuer.Create(key, parse.GetValue(user), lifetime, attrs, parse.GetValue(channel), parse.GetValue(subscription), infoNode,
                issuer.Length == 0 ? null : issuer, audience.Length == 0 ? null : audience));
            return 0;
        });

        var tokenArgument = new Argument<string>("TOKEN") { Description = "The token to verify." };
        var check = new Command("check", "Verify a token with the configured keys (token_secret, token_public_key, token_jwks_url) and print its claims.")
        {
            tokenArgument, settingOptions.Config, secret,
        };
        check.SetAction(async (parse, cancellation) =>
        {
            var settings = Load(settingOptions, parse, parse.GetValue(secret));
            if (settings is null)
            {
                return 2;
            }
            ITokenVerifier verifier;
            try
            {
                var options = Settings.ToOptions(settings);
                verifier = new JwtTokenVerifier(options.Token, options.Node.MaxAttributes);
            }
            catch (Exception ex) when (ex is ConfigException or ArgumentException)
            {
                Console.Error.WriteLine("herald: " + ex.Message);
                return 2;
            }
            var result = await verifier.VerifyAsync(parse.GetValue(tokenArgument)!, cancellation).ConfigureAwait(false);
            if (!result.IsValid)
            {
                Console.Error.WriteLine("herald: token refused: " + result.Error);
                return 1;
            }
            var claims = result.Claims!;
            var output = new JsonObject
            {
                ["valid"] = true,
                ["user"] = claims.UserId,
                ["expires_at"] = claims.ExpiresAt?.ToString("O"),
                ["attrs"] = claims.Attributes is null ? null : new JsonObject([.. claims.Attributes.Pairs.ToArray().Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))]),
                ["channels"] = new JsonArray([.. claims.Channels.Select(c => (JsonNode?)c)]),
                ["channel"] = claims.Channel,
                ["info"] = claims.Info is null ? null : JsonNode.Parse(claims.Info),
            };
            Console.WriteLine(output.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            return 0;
        });
        token.Subcommands.Add(check);
        return token;
    }

    private static EffectiveSettings? Load(SettingOptions settingOptions, ParseResult parse, string? secret)
    {
        try
        {
            var overrides = secret is null ? [] : new[] { KeyValuePair.Create("token_secret", secret) };
            return EffectiveSettings.Load(parse.GetValue(settingOptions.Config), Program.EnvironmentVariables(), overrides);
        }
        catch (ConfigException ex)
        {
            Console.Error.WriteLine("herald: " + ex.Message);
            return null;
        }
    }
}
