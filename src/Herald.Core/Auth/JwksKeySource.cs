using Microsoft.IdentityModel.Tokens;

namespace Herald.Core.Auth;

/// <summary>
/// Signing keys from a JWKS endpoint: fetched on first use, cached, refetched every refresh interval and when a token
/// names a <c>kid</c> the cache does not know (at most once per minimum refetch interval, so a flood of tokens with
/// made-up kids cannot hammer the endpoint).
/// </summary>
internal sealed class JwksKeySource(Uri url, HttpClient http, TimeProvider time, TimeSpan refreshInterval, TimeSpan minimumRefetchInterval)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IList<SecurityKey> _keys = [];
    private DateTimeOffset _fetchedAt = DateTimeOffset.MinValue;
    private string? _lastError;

    /// <summary>The cached keys, fetching first when none are cached or they are stale.</summary>
    public async ValueTask<(IList<SecurityKey> Keys, string? Error)> GetKeysAsync(bool unknownKid, CancellationToken cancellation)
    {
        var now = time.GetUtcNow();
        var stale = now - _fetchedAt >= refreshInterval;
        var mayRefetch = now - _fetchedAt >= minimumRefetchInterval;
        if (!stale && !(unknownKid && mayRefetch))
        {
            return (_keys, _lastError);
        }
        await _gate.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            if (_fetchedAt > now)
            {
                return (_keys, _lastError); // another caller fetched while this one waited
            }
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                timeout.CancelAfter(TimeSpan.FromSeconds(10));
                var json = await http.GetStringAsync(url, timeout.Token).ConfigureAwait(false);
                _keys = new JsonWebKeySet(json).GetSigningKeys();
                _lastError = null;
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or ArgumentException or System.Text.Json.JsonException)
            {
                // Keep serving the keys we had; say why the refresh failed.
                _lastError = $"could not fetch the JWKS from {url} ({ex.Message})";
            }
            _fetchedAt = time.GetUtcNow();
            return (_keys, _lastError);
        }
        finally
        {
            _gate.Release();
        }
    }
}
