using System.Security.Cryptography;
using System.Text.Json;
using Herald.Core.Attributes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Herald.Core.Auth;

/// <summary>
/// Verifies JWTs with Microsoft.IdentityModel: HS256/384/512 with a shared secret, RS/PS/ES with a PEM public key or
/// keys from a JWKS endpoint. Reads Herald's claims: <c>sub</c>, <c>exp</c>, <c>attrs</c>, <c>channels</c>,
/// <c>info</c>, <c>channel</c>.
/// </summary>
public sealed class JwtTokenVerifier : ITokenVerifier
{
    private static readonly string[] HmacAlgorithms = [SecurityAlgorithms.HmacSha256, SecurityAlgorithms.HmacSha384, SecurityAlgorithms.HmacSha512];

    private static readonly string[] AsymmetricAlgorithms =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    ];

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly TokenOptions _options;
    private readonly TimeProvider _time;
    private readonly List<SecurityKey> _staticKeys = [];
    private readonly JwksKeySource? _jwks;
    private readonly int _maxAttributes;

    /// <summary>Creates a verifier; throws <see cref="ArgumentException"/> when the PEM key cannot be read.</summary>
    public JwtTokenVerifier(TokenOptions options, int maxAttributes, HttpClient? http = null, TimeProvider? time = null)
    {
        _options = options;
        _time = time ?? TimeProvider.System;
        _maxAttributes = maxAttributes;
        if (!string.IsNullOrEmpty(options.Secret))
        {
            _staticKeys.Add(HmacKey.For(options.Secret));
        }
        if (!string.IsNullOrEmpty(options.PublicKeyPem))
        {
            _staticKeys.Add(ReadPublicKey(options.PublicKeyPem));
        }
        if (options.JwksUrl is not null)
        {
            _jwks = new JwksKeySource(options.JwksUrl, http ?? new HttpClient(), _time, options.JwksRefreshInterval, options.JwksMinimumRefetchInterval);
        }
    }

    /// <summary>Reads an RSA or EC public key from PEM text.</summary>
    public static SecurityKey ReadPublicKey(string pem)
    {
        try
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return new RsaSecurityKey(rsa);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            try
            {
                var ec = ECDsa.Create();
                ec.ImportFromPem(pem);
                return new ECDsaSecurityKey(ec);
            }
            catch (Exception inner) when (inner is ArgumentException or CryptographicException)
            {
                throw new ArgumentException("the public key is not an RSA or EC public key in PEM form (-----BEGIN PUBLIC KEY-----)", inner);
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask<TokenResult> VerifyAsync(string token, CancellationToken cancellation = default)
    {
        if (!_options.Configured)
        {
            return TokenResult.Refused(TokenFailure.NotConfigured,
                "this server has no key to verify tokens: set token_secret, token_public_key or token_jwks_url");
        }
        if (string.IsNullOrWhiteSpace(token))
        {
            return TokenResult.Refused(TokenFailure.Invalid, "malformed token: empty");
        }
        string? kid;
        try
        {
            // Before the library reads them: a time claim it cannot hold (year 10000, 2^53) throws from inside it,
            // and one it skips (a string) would make a token that never expires.
            if (CheckTimeClaims(token) is { } bad)
            {
                return TokenResult.Refused(TokenFailure.Invalid, bad);
            }
            kid = new JsonWebToken(token).Kid;
        }
        catch (Exception ex) when (ex is ArgumentException or JsonException or FormatException)
        {
            // FormatException: a part that is not base64url, e.g. in a five-part (JWE-shaped) token.
            return TokenResult.Refused(TokenFailure.Invalid, "malformed token: not a signed JWT (header.payload.signature)");
        }
        var keys = new List<SecurityKey>(_staticKeys);
        if (_jwks is not null)
        {
            var (jwksKeys, jwksError) = await _jwks.GetKeysAsync(unknownKid: false, cancellation).ConfigureAwait(false);
            if (!string.IsNullOrEmpty(kid) && !jwksKeys.Any(k => k.KeyId == kid))
            {
                // A key id the cache does not know: the issuer may have rotated its keys.
                (jwksKeys, jwksError) = await _jwks.GetKeysAsync(unknownKid: true, cancellation).ConfigureAwait(false);
                if (_staticKeys.Count == 0 && !jwksKeys.Any(k => k.KeyId == kid))
                {
                    return TokenResult.Refused(TokenFailure.Invalid, jwksError ?? $"unknown kid \"{kid}\": no key in the JWKS has this key id");
                }
            }
            keys.AddRange(jwksKeys);
        }
        TokenValidationResult result;
        try
        {
            result = await ValidateAsync(token, keys).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException or SecurityTokenException)
        {
            return Refusal(ex); // a token the library chokes on is refused like any other invalid one
        }
        if (!result.IsValid)
        {
            return Refusal(result.Exception);
        }
        return ReadClaims((JsonWebToken)result.SecurityToken);
    }

    private async Task<TokenValidationResult> ValidateAsync(string token, List<SecurityKey> keys)
    {
        var parameters = new TokenValidationParameters
        {
            IssuerSigningKeys = keys,
            ValidAlgorithms = [.. (string.IsNullOrEmpty(_options.Secret) ? [] : HmacAlgorithms),
                .. (string.IsNullOrEmpty(_options.PublicKeyPem) && _jwks is null ? [] : AsymmetricAlgorithms)],
            ValidateIssuer = _options.Issuer is not null,
            ValidIssuer = _options.Issuer,
            ValidateAudience = _options.Audience is not null,
            ValidAudience = _options.Audience,
            ValidateLifetime = true,
            RequireExpirationTime = false,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = false,
            TryAllIssuerSigningKeys = true,
            ClockSkew = _options.ClockSkew,
            LifetimeValidator = (notBefore, expires, _, p) =>
            {
                var now = _time.GetUtcNow().UtcDateTime;
                if (notBefore is { } nbf && nbf > now + p.ClockSkew)
                {
                    throw new SecurityTokenNotYetValidException($"token not valid before {nbf:O}");
                }
                if (expires is { } exp && exp < now - p.ClockSkew)
                {
                    throw new SecurityTokenExpiredException($"token expired at {exp:O}") { Expires = exp };
                }
                return true;
            },
        };
        return await _handler.ValidateTokenAsync(token, parameters).ConfigureAwait(false);
    }

    private static TokenResult Refusal(Exception? exception) => exception switch
    {
        SecurityTokenExpiredException expired => TokenResult.Refused(TokenFailure.Expired,
            $"token expired at {expired.Expires:yyyy-MM-ddTHH:mm:ssZ}: get a new token and connect again"),
        SecurityTokenNotYetValidException notYet => TokenResult.Refused(TokenFailure.Invalid, notYet.Message),
        SecurityTokenSignatureKeyNotFoundException => TokenResult.Refused(TokenFailure.Invalid,
            "bad signature: the token was not signed with the configured key"),
        SecurityTokenInvalidSignatureException => TokenResult.Refused(TokenFailure.Invalid,
            "bad signature: the token was not signed with the configured key"),
        SecurityTokenInvalidAudienceException => TokenResult.Refused(TokenFailure.Invalid, "wrong audience (aud claim)"),
        SecurityTokenInvalidIssuerException => TokenResult.Refused(TokenFailure.Invalid, "wrong issuer (iss claim)"),
        SecurityTokenInvalidAlgorithmException => TokenResult.Refused(TokenFailure.Invalid,
            "algorithm not allowed: use HS256/384/512 with token_secret, RS/PS/ES with a public key or JWKS"),
        SecurityTokenMalformedException or ArgumentException => TokenResult.Refused(TokenFailure.Invalid,
            "malformed token: not a signed JWT (header.payload.signature)"),
        _ => TokenResult.Refused(TokenFailure.Invalid, "invalid token: " + (exception?.Message ?? "unknown reason")),
    };

    /// <summary>The error for a time claim that is not a NumericDate; null when all of them are (or are absent).</summary>
    private static string? CheckTimeClaims(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            throw new FormatException("not header.payload.signature");
        }
        var payload = Base64UrlEncoder.DecodeBytes(parts[1]);
        // Text first: reading a claim's name through a lone surrogate escape throws (the same check as in ReadClaims).
        if (!Herald.Protocol.JsonText.TryValidate(payload, out var textError))
        {
            return "bad claims: " + textError;
        }
        using var document = JsonDocument.Parse(payload);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            return "bad claims: the payload must be a JSON object";
        }
        foreach (var claim in (string[])["exp", "nbf", "iat"])
        {
            if (!NumericDate.TryRead(document.RootElement, claim, out _, out var error))
            {
                return error;
            }
        }
        return null;
    }

    private TokenResult ReadClaims(JsonWebToken jwt)
    {
        var payload = Base64UrlEncoder.DecodeBytes(jwt.EncodedPayload);
        // The claims reach clients (user id, attributes, info in presence, channel names): they must be valid text too.
        if (!Herald.Protocol.JsonText.TryValidate(payload, out var textError))
        {
            return TokenResult.Refused(TokenFailure.Invalid, "bad claims: " + textError);
        }
        using var document = JsonDocument.Parse(payload);
        var root = document.RootElement;
        var user = "";
        AttributeSet? attributes = null;
        string[] channels = [];
        byte[]? info = null;
        string? channel = null;
        if (root.TryGetProperty("sub", out var sub))
        {
            if (sub.ValueKind != JsonValueKind.String)
            {
                return TokenResult.Refused(TokenFailure.Invalid, "bad claims: sub must be a string");
            }
            user = sub.GetString()!;
            if (user.Length > 0 && !Users.UserIds.IsValid(user, out var userError))
            {
                return TokenResult.Refused(TokenFailure.Invalid, "bad claims: sub: " + userError);
            }
        }
        if (root.TryGetProperty("attrs", out var attrs) && attrs.ValueKind != JsonValueKind.Null)
        {
            if (!AttributeJson.TryParseAttributes(System.Text.Encoding.UTF8.GetBytes(attrs.GetRawText()), _maxAttributes, out var set, out _, out var error))
            {
                return TokenResult.Refused(TokenFailure.Invalid, "bad claims: attrs: " + error);
            }
            attributes = set;
        }
        if (root.TryGetProperty("channels", out var list) && list.ValueKind != JsonValueKind.Null)
        {
            if (list.ValueKind != JsonValueKind.Array || list.EnumerateArray().Any(c => c.ValueKind != JsonValueKind.String))
            {
                return TokenResult.Refused(TokenFailure.Invalid, "bad claims: channels must be an array of strings");
            }
            channels = [.. list.EnumerateArray().Select(c => c.GetString()!)];
        }
        if (root.TryGetProperty("info", out var infoElement) && infoElement.ValueKind != JsonValueKind.Null)
        {
            info = System.Text.Encoding.UTF8.GetBytes(infoElement.GetRawText());
        }
        if (root.TryGetProperty("channel", out var channelElement) && channelElement.ValueKind != JsonValueKind.Null)
        {
            if (channelElement.ValueKind != JsonValueKind.String)
            {
                return TokenResult.Refused(TokenFailure.Invalid, "bad claims: channel must be a string");
            }
            channel = channelElement.GetString();
        }
        if (!NumericDate.TryRead(root, "exp", out var expires, out var expError))
        {
            return TokenResult.Refused(TokenFailure.Invalid, expError); // checked before validation too; never accepted without expiry
        }
        return TokenResult.Valid(new TokenClaims(user, expires, attributes, channels, info, channel));
    }
}
