using System.Collections.Frozen;

namespace Herald.Core.Apps;

/// <summary>
/// The apps a server serves, found by id (HTTP API paths) and by key (client connections, <c>auth_key</c>), and the
/// default app whose channels and users are Herald's own. Built once at start, checked as a whole, then read only.
/// </summary>
public sealed class AppRegistry
{
    private readonly FrozenDictionary<string, AppOptions> _byId;
    private readonly FrozenDictionary<string, AppOptions> _byKey;

    /// <summary>No apps: the Pusher surface answers that no app is configured.</summary>
    public static AppRegistry Empty { get; } = new([], null);

    /// <summary>
    /// Checks <paramref name="apps"/> and makes the one named <paramref name="defaultAppId"/> (null or empty: none) the default.
    /// </summary>
    /// <exception cref="ArgumentException">An app breaks a rule; the message names the app and the rule.</exception>
    public AppRegistry(IEnumerable<AppOptions> apps, string? defaultAppId)
    {
        var list = new List<AppOptions>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var app in apps)
        {
            Check(app);
            if (!ids.Add(app.Id))
            {
                throw new ArgumentException($"app id '{app.Id}' is given twice: app ids must be unique");
            }
            if (!keys.Add(app.Key))
            {
                throw new ArgumentException($"app '{app.Id}': key '{app.Key}' is used by another app too: app keys must be unique");
            }
            list.Add(app with { IsDefault = app.Id == defaultAppId });
        }
        if (!string.IsNullOrEmpty(defaultAppId) && !ids.Contains(defaultAppId))
        {
            throw new ArgumentException($"default_app '{defaultAppId}' names no configured app; apps are: " +
                (list.Count == 0 ? "(none)" : string.Join(", ", list.Select(a => a.Id))));
        }
        All = list;
        _byId = list.ToFrozenDictionary(a => a.Id, StringComparer.Ordinal);
        _byKey = list.ToFrozenDictionary(a => a.Key, StringComparer.Ordinal);
        Default = list.FirstOrDefault(a => a.IsDefault);
    }

    /// <summary>Every app, in configured order.</summary>
    public IReadOnlyList<AppOptions> All { get; }

    /// <summary>The default app, or null when none is set.</summary>
    public AppOptions? Default { get; }

    /// <summary>The app with id <paramref name="id"/>.</summary>
    public bool TryGetById(string id, out AppOptions app) => _byId.TryGetValue(id, out app!);

    /// <summary>The app with key <paramref name="key"/>.</summary>
    public bool TryGetByKey(string key, out AppOptions app) => _byKey.TryGetValue(key, out app!);

    private static void Check(AppOptions app)
    {
        if (!AppOptions.IsValidIdentifier(app.Id))
        {
            throw new ArgumentException($"app id '{app.Id}' must be {AppOptions.IdentifierRule}");
        }
        if (!AppOptions.IsValidIdentifier(app.Key))
        {
            throw new ArgumentException($"app '{app.Id}': key '{app.Key}' must be {AppOptions.IdentifierRule}");
        }
        if (string.IsNullOrEmpty(app.Secret))
        {
            throw new ArgumentException($"app '{app.Id}': the secret must not be empty");
        }
        Range(app, "max_connections", app.MaxConnections, 0, 100_000_000);
        Range(app, "max_event_size_kb", app.MaxEventSizeKb, 1, 16 * 1024);
        Range(app, "max_channels_per_event", app.MaxChannelsPerEvent, 1, 10_000);
        Range(app, "max_events_per_batch", app.MaxEventsPerBatch, 1, 10_000);
    }

    private static void Range(AppOptions app, string option, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            throw new ArgumentException($"app '{app.Id}': {option} is {value}; it must be a whole number from {min} to {max}");
        }
    }
}
