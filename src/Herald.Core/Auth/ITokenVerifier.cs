namespace Herald.Core.Auth;

/// <summary>
/// Verifies connection and subscription tokens. Never throws for a bad token: the result says why it was refused,
/// specifically enough for the client developer to fix it. Safe to call concurrently.
/// </summary>
public interface ITokenVerifier
{
    /// <summary>Verifies <paramref name="token"/> and reads its claims.</summary>
    ValueTask<TokenResult> VerifyAsync(string token, CancellationToken cancellation = default);
}
