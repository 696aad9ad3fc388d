using Herald.Core.Connections;

namespace Herald.Core.Users;

/// <summary>
/// User id to that user's open connections on this node (every device). Thread-safe. An index only: what follows from a
/// change (the broker topic, who is online) is the caller's explicit next step.
/// </summary>
internal sealed class UserIndex
{
    private readonly Dictionary<string, HashSet<Connection>> _byUser = new(StringComparer.Ordinal);
    private readonly Lock _sync = new();

    /// <summary>
    /// Adds <paramref name="connection"/> unless the user already has <paramref name="limit"/> connections (0: no limit);
    /// <paramref name="added"/> says whether it was not there before.
    /// </summary>
    public bool TryAdd(string user, Connection connection, int limit, out bool added)
    {
        lock (_sync)
        {
            if (!_byUser.TryGetValue(user, out var set))
            {
                _byUser[user] = set = [];
            }
            if (limit > 0 && set.Count >= limit)
            {
                added = false;
                return false;
            }
            added = set.Add(connection);
            return true;
        }
    }

    /// <summary>Removes a connection; true when it was there.</summary>
    public bool Remove(string user, Connection connection)
    {
        lock (_sync)
        {
            if (!_byUser.TryGetValue(user, out var set) || !set.Remove(connection))
            {
                return false;
            }
            if (set.Count == 0)
            {
                _byUser.Remove(user);
            }
            return true;
        }
    }

    /// <summary>Whether <paramref name="user"/> has any connection here, ready or not.</summary>
    public bool Contains(string user)
    {
        lock (_sync)
        {
            return _byUser.ContainsKey(user);
        }
    }

    /// <summary>Appends the connections of <paramref name="user"/> to <paramref name="into"/>.</summary>
    public void CopyConnections(string user, List<Connection> into)
    {
        lock (_sync)
        {
            if (_byUser.TryGetValue(user, out var set))
            {
                into.AddRange(set);
            }
        }
    }

    /// <summary>
    /// Number of ready connections of <paramref name="user"/>: one still being admitted (its token's channels not yet
    /// subscribed) does not count, so "online" never runs ahead of what a publish would reach.
    /// </summary>
    public int CountOf(string user)
    {
        lock (_sync)
        {
            return _byUser.TryGetValue(user, out var set) ? set.Count(c => c.State == ConnectionState.Ready) : 0;
        }
    }

    /// <summary>Users with at least one connection.</summary>
    public int UserCount
    {
        get
        {
            lock (_sync)
            {
                return _byUser.Count;
            }
        }
    }
}
