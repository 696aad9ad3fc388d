namespace Herald.Core.Auth;

/// <summary>Why a token was refused.</summary>
public enum TokenFailure
{
    /// <summary>Not refused.</summary>
    None,

    /// <summary>Bad signature, malformed, unknown key id, wrong issuer or audience, bad claims.</summary>
    Invalid,

    /// <summary>Past its <c>exp</c>: get a new token.</summary>
    Expired,

    /// <summary>The server has no key to verify tokens with.</summary>
    NotConfigured,
}

/// <summary>The outcome of verifying a token: claims, or a failure with a message that says exactly what is wrong.</summary>
public readonly record struct TokenResult(TokenClaims? Claims, TokenFailure Failure, string Error)
{
    /// <summary>Whether the token was accepted.</summary>
    public bool IsValid => Claims is not null;

    /// <summary>An accepted token.</summary>
    public static TokenResult Valid(TokenClaims claims) => new(claims, TokenFailure.None, "");

    /// <summary>A refused token.</summary>
    public static TokenResult Refused(TokenFailure failure, string error) => new(null, failure, error);
}
