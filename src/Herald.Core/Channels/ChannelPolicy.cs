namespace Herald.Core.Channels;

/// <summary>Finds the namespace of a channel and answers who may subscribe to or publish on it.</summary>
internal sealed class ChannelPolicy
{
    private readonly Dictionary<string, NamespaceOptions> _namespaces = new(StringComparer.Ordinal);
    private readonly NamespaceOptions _default;

    public ChannelPolicy(NodeOptions options)
    {
        foreach (var ns in options.Namespaces)
        {
            _namespaces[ns.Name] = ns;
        }
        _default = _namespaces.TryGetValue("", out var configured)
            ? configured
            : new NamespaceOptions
            {
                ClientPublish = options.ClientPublish,
                HistorySize = options.HistorySize,
                HistoryTtl = options.HistoryTtl,
                Presence = options.Presence,
                JoinLeave = options.JoinLeave,
            };
    }

    /// <summary>The options for <paramref name="channel"/>, or null with an error naming the unknown namespace.</summary>
    /// <summary>The options of a channel known to be valid (subscribed, so its namespace exists).</summary>
    public NamespaceOptions ResolveKnown(string channel) => Resolve(channel, out _) ?? _default;

    public NamespaceOptions? Resolve(string channel, out string error)
    {
        var colon = channel.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            error = "";
            return _default;
        }
        var name = channel[..colon];
        if (_namespaces.TryGetValue(name, out var ns) && name.Length > 0)
        {
            error = "";
            return ns;
        }
        error = _namespaces.Count(n => n.Key.Length > 0) == 0
            ? $"unknown namespace \"{name}\" in channel \"{channel}\": no namespaces are configured (setting namespaces)"
            : $"unknown namespace \"{name}\" in channel \"{channel}\"; configured: {string.Join(", ", _namespaces.Keys.Where(k => k.Length > 0))}";
        return null;
    }

    /// <summary>
    /// For a user-limited channel (<c>name#u1,u2</c>), whether <paramref name="user"/> is one of its users; null when the
    /// channel is not user-limited.
    /// </summary>
    public static bool? UserAllowed(NamespaceOptions ns, string channel, string user)
    {
        if (!ns.UserLimited)
        {
            return null;
        }
        var hash = channel.LastIndexOf('#');
        if (hash < 0)
        {
            return null;
        }
        if (user.Length == 0)
        {
            return false;
        }
        foreach (var allowed in channel.AsSpan(hash + 1).Split(','))
        {
            if (channel.AsSpan(hash + 1)[allowed].SequenceEqual(user))
            {
                return true;
            }
        }
        return false;
    }
}
