namespace Herald.Server.Transports;

/// <summary>
/// Guards against cross-site WebSocket hijacking: when origins are configured, a browser's WebSocket from any other
/// origin is refused. Requests without an Origin header (servers, apps, mini-programs) are not browsers and pass.
/// Entries are exact origins (<c>https://app.example.com</c>) or one wildcard level (<c>https://*.example.com</c>).
/// </summary>
internal sealed class OriginCheck(IReadOnlyList<string> allowed)
{
    public bool Enabled => allowed.Count > 0;

    public bool IsAllowed(string? origin)
    {
        if (allowed.Count == 0 || string.IsNullOrEmpty(origin))
        {
            return true;
        }
        foreach (var entry in allowed)
        {
            if (entry == "*" || string.Equals(entry.TrimEnd('/'), origin, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
            var star = entry.IndexOf("://*.", StringComparison.Ordinal);
            if (star > 0)
            {
                var scheme = entry[..(star + 3)];
                var suffix = entry[(star + 4)..].TrimEnd('/'); // ".example.com"
                if (origin.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)
                    && origin.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                    && origin.Length > scheme.Length + suffix.Length
                    && !origin.AsSpan(scheme.Length, origin.Length - scheme.Length - suffix.Length).Contains('.'))
                {
                    return true; // exactly one label in place of the '*'
                }
            }
        }
        return false;
    }
}
