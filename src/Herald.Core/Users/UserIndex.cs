using Herald.Core.Connections;

namespace Herald.Core.Users;

/// <summary>User id to that user's open connections on this node (every device). Thread-safe.</summary>
/// <param name="changed">Called (outside the lock) after each connection added or removed: user, connection, added.</param>
internal sealed class UserIndex(Action<string, Connection, bool>? changed = null)
{
    private readonly Dictionary<string, HashSet<Connection>> _byUser = new(StringComparer.Ordinal);
    private readonly Lock _sync = new();

    /// <summary>Adds <paramref name="connection"/> unless the user already has <paramref name="limit"/> connections (0: no limit).</summary>
    public bool TryAdd(string user, Connection connection, int limit) => TryAdd(user, connection, limit, out _);

    /// <summary>As above; <paramref name="first"/> says whether it is the user's first connection on this node.</summary>
    public bool TryAdd(string user, Connection connection, int limit, out bool first)
    {
        lock (_sync)
        {
            if (!_byUser.TryGetValue(user, out var set))
            {
                _byUser[user] = set = [];
            }
            first = false;
            if (limit > 0 && set.Count >= limit)
            {
                return false;
            }
            var added = set.Add(connection);
            first = added && set.Count == 1;
            if (!added)
            {
                return true;
            }
        }
        changed?.Invoke(user, connection, true);
        return true;
    }

    /// <summary>Removes a connection; true when it was the user's last on this node.</summary>
    public bool Remove(string user, Connection connection)
    {
        bool last;
        lock (_sync)
        {
            if (!_byUser.TryGetValue(user, out var set) || !set.Remove(connection))
            {
                return false;
            }
            last = set.Count == 0;
            if (last)
            {
                _byUser.Remove(user);
            }
        }
        changed?.Invoke(user, connection, false);
        return last;
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
