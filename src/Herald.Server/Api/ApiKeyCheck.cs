using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Herald.Server.Api;

/// <summary>
/// Who may call the HTTP API: with keys configured, a caller presenting one of them (<c>X-API-Key: K</c> or
/// <c>Authorization: apikey K</c>); with none configured, loopback callers only.
/// </summary>
internal sealed class ApiKeyCheck(IReadOnlyList<ApiKey> keys)
{
    private readonly (byte[] Secret, ApiKey Key)[] _keys = [.. keys.Select(k => (Encoding.UTF8.GetBytes(k.Key), k))];

    /// <summary>The scope each method needs; methods not listed need full access.</summary>
    public static ApiKeyScope RequiredScope(string method) => method == "publish" ? ApiKeyScope.Publish : ApiKeyScope.Full;

    public bool KeysConfigured => _keys.Length > 0;

    public bool IsAllowed(HttpContext context, out string refusal) => IsAllowed(context, "publish", out refusal, out _);

    /// <summary>
    /// Whether the caller may call <paramref name="method"/>. <paramref name="forbidden"/> is true when the key is valid
    /// but its scope is too narrow (403 rather than 401).
    /// </summary>
    public bool IsAllowed(HttpContext context, string method, out string refusal, out bool forbidden)
    {
        forbidden = false;
        if (_keys.Length == 0)
        {
            var remote = context.Connection.RemoteIpAddress;
            if (remote is not null && IPAddress.IsLoopback(remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote))
            {
                refusal = "";
                return true;
            }
            refusal = "no API key is configured, so the API answers only requests from this host; set one with --api-key or api_keys";
            return false;
        }
        var presented = Presented(context.Request);
        if (presented is null)
        {
            refusal = "missing API key: send it as the X-API-Key header or as 'Authorization: apikey <key>'";
            return false;
        }
        var bytes = Encoding.UTF8.GetBytes(presented);
        ApiKey? matched = null;
        foreach (var (secret, key) in _keys)
        {
            // Fixed-time comparison of every key: response timing must not reveal how much of a key was right.
            if (CryptographicOperations.FixedTimeEquals(bytes, secret))
            {
                matched = key;
            }
        }
        if (matched is not null)
        {
            if (matched.Scope < RequiredScope(method))
            {
                forbidden = true;
                refusal = $"API key '{matched.Name}' may only publish; '{method}' needs a key with full access";
                return false;
            }
            refusal = "";
            return true;
        }
        refusal = "invalid API key";
        return false;
    }

    private static string? Presented(HttpRequest request)
    {
        var header = request.Headers["X-API-Key"].ToString();
        if (header.Length > 0)
        {
            return header;
        }
        var authorization = request.Headers.Authorization.ToString();
        const string scheme = "apikey ";
        return authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ? authorization[scheme.Length..].Trim() : null;
    }
}
