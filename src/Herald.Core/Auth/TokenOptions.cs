namespace Herald.Core.Auth;

/// <summary>How tokens are verified. At least one of the key sources must be set for tokens to be accepted.</summary>
public sealed record TokenOptions
{
    /// <summary>Shared secret for HS256/HS384/HS512.</summary>
    public string? Secret { get; init; }

    /// <summary>PEM public key (RSA or EC) for RS256/ES256 and relatives.</summary>
    public string? PublicKeyPem { get; init; }

    /// <summary>JWKS endpoint; keys are fetched, cached, and refetched on an unknown <c>kid</c>.</summary>
    public Uri? JwksUrl { get; init; }

    /// <summary>Required <c>iss</c>, when set.</summary>
    public string? Issuer { get; init; }

    /// <summary>Required <c>aud</c>, when set.</summary>
    public string? Audience { get; init; }

    /// <summary>Tolerance for clock differences on <c>exp</c>/<c>nbf</c>.</summary>
    public TimeSpan ClockSkew { get; init; } = TimeSpan.Zero;

    /// <summary>How often cached JWKS keys are refetched even when every kid is known.</summary>
    public TimeSpan JwksRefreshInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Least time between two JWKS fetches caused by unknown key ids.</summary>
    public TimeSpan JwksMinimumRefetchInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Whether any key source is configured.</summary>
    public bool Configured => !string.IsNullOrEmpty(Secret) || !string.IsNullOrEmpty(PublicKeyPem) || JwksUrl is not null;
}
