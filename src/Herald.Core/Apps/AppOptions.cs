namespace Herald.Core.Apps;

/// <summary>
/// One app of the Pusher protocol (setting <c>apps</c>, flag <c>--app</c>): its credentials and limits. Each app's
/// channels, users and presence are its own (<see cref="AppScope"/>); the default app's are Herald's.
/// </summary>
public sealed record AppOptions
{
    /// <summary>The app id: the <c>{id}</c> of <c>/apps/{id}/...</c> in the HTTP API.</summary>
    public required string Id { get; init; }

    /// <summary>The app key: public, named by clients (<c>/app/{key}</c>) and by signed API requests (<c>auth_key</c>).</summary>
    public required string Key { get; init; }

    /// <summary>The secret that signs API requests and channel authorisations; never logged nor printed.</summary>
    public required string Secret { get; init; }

    /// <summary>Whether clients may send <c>client-*</c> events on private and presence channels.</summary>
    public bool ClientEvents { get; init; }

    /// <summary>Whether connections that do not sign in (<c>pusher:signin</c>) are closed after a grace period.</summary>
    public bool UserAuthenticationRequired { get; init; }

    /// <summary>Most connections the app may hold at once (0: no limit).</summary>
    public int MaxConnections { get; init; }

    /// <summary>Largest event data, in KiB (Pusher's limit is 10).</summary>
    public int MaxEventSizeKb { get; init; } = 10;

    /// <summary>Most channels one triggered event may name.</summary>
    public int MaxChannelsPerEvent { get; init; } = 100;

    /// <summary>Most events one batch may hold.</summary>
    public int MaxEventsPerBatch { get; init; } = 10;

    /// <summary>Where the app's webhooks go (kept as configured; sending them is later work).</summary>
    public IReadOnlyList<AppWebhook> Webhooks { get; init; } = [];

    /// <summary>Browser origins allowed to connect to this app; empty: the server's <c>allowed_origins</c> applies.</summary>
    public IReadOnlyList<string> AllowedOrigins { get; init; } = [];

    /// <summary>Whether the app is served; a disabled app's API requests are refused with 403.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>
    /// Whether this is the default app (setting <c>default_app</c>), whose channels and users are Herald's own. Set by
    /// <see cref="AppRegistry"/>, never configured on the app itself.
    /// </summary>
    public bool IsDefault { get; init; }

    /// <summary>Largest event data in bytes.</summary>
    public int MaxEventSizeBytes => MaxEventSizeKb * 1024;

    /// <summary>What an id or key may hold: 1 to 64 characters of A-Z, a-z, 0-9, '_', '.' and '-'.</summary>
    public const string IdentifierRule = "1 to 64 characters of A-Z, a-z, 0-9, '_', '.' and '-'";

    /// <summary>Whether <paramref name="value"/> follows <see cref="IdentifierRule"/> (so it never holds a space, nor a '/' of a path).</summary>
    public static bool IsValidIdentifier(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 64)
        {
            return false;
        }
        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '.' or '-'))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The app without its secret, for logs and diagnostics.</summary>
    public override string ToString() => $"app '{Id}' (key '{Key}')";
}
