using System.Collections.Concurrent;

namespace Herald.Core.Engine;

/// <summary>
/// Presence of this node's channels in memory: per channel a sorted set of members and a count per user, so stats
/// are O(1) and a page is O(page) after an O(log n) seek; who is online is one more such set, apart from the channels.
/// </summary>
public sealed class MemoryPresenceStore : IPresenceStore
{
    private readonly ConcurrentDictionary<string, ChannelPresence> _channels = new(StringComparer.Ordinal);
    private readonly ChannelPresence _online = new(); // who is online: a set of its own, never a channel

    /// <inheritdoc />
    public ValueTask<PresenceChange> AddAsync(string channel, PresenceEntry entry, CancellationToken cancellation = default)
    {
        while (true)
        {
            var presence = _channels.GetOrAdd(channel, static _ => new ChannelPresence());
            lock (presence)
            {
                if (presence.Removed)
                {
                    continue; // lost a race with the removal of an emptied channel
                }
                return ValueTask.FromResult(presence.Add(entry));
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<PresenceChange> RemoveAsync(string channel, string clientId, string userId, CancellationToken cancellation = default)
    {
        if (!_channels.TryGetValue(channel, out var presence))
        {
            return ValueTask.FromResult(new PresenceChange(false, 0));
        }
        lock (presence)
        {
            var change = presence.Remove(clientId);
            if (change.Changed && presence.Members.Count == 0)
            {
                presence.Removed = true;
                _channels.TryRemove(new KeyValuePair<string, ChannelPresence>(channel, presence));
            }
            return ValueTask.FromResult(change);
        }
    }

    /// <inheritdoc />
    public ValueTask<PresenceChange> AddOnlineAsync(string clientId, string userId, CancellationToken cancellation = default)
    {
        lock (_online)
        {
            return ValueTask.FromResult(_online.Add(new PresenceEntry(clientId, userId, null)));
        }
    }

    /// <inheritdoc />
    public ValueTask<PresenceChange> RemoveOnlineAsync(string clientId, string userId, CancellationToken cancellation = default)
    {
        lock (_online)
        {
            return ValueTask.FromResult(_online.Remove(clientId));
        }
    }

    /// <inheritdoc />
    public ValueTask<(int[] Connections, int TotalUsers)> CountOnlineAsync(IReadOnlyList<string> users, CancellationToken cancellation = default)
    {
        lock (_online)
        {
            return ValueTask.FromResult((_online.CountsOf(users), _online.UserCounts.Count));
        }
    }

    /// <inheritdoc />
    public ValueTask<PresencePage> GetAsync(string channel, string? cursor, int limit, CancellationToken cancellation = default)
    {
        if (!_channels.TryGetValue(channel, out var presence))
        {
            return ValueTask.FromResult(new PresencePage([], null));
        }
        lock (presence)
        {
            var page = new List<PresenceEntry>(Math.Min(limit, presence.Members.Count));
            var keys = presence.Members.Keys;
            var start = 0;
            if (cursor is not null)
            {
                // Binary search for the first key after the cursor: O(log n), never a walk from the start.
                var lo = 0;
                var hi = keys.Count;
                while (lo < hi)
                {
                    var mid = (lo + hi) / 2;
                    if (string.CompareOrdinal(keys[mid], cursor) <= 0)
                    {
                        lo = mid + 1;
                    }
                    else
                    {
                        hi = mid;
                    }
                }
                start = lo;
            }
            for (var i = start; i < keys.Count && page.Count < limit; i++)
            {
                page.Add(presence.Members.GetValueAtIndex(i));
            }
            var next = start + page.Count < keys.Count && page.Count > 0 ? page[^1].ClientId : null;
            return ValueTask.FromResult(new PresencePage(page, next));
        }
    }

    /// <inheritdoc />
    public ValueTask<PresenceStats> GetStatsAsync(string channel, CancellationToken cancellation = default)
    {
        if (!_channels.TryGetValue(channel, out var presence))
        {
            return ValueTask.FromResult(new PresenceStats(0, 0));
        }
        lock (presence)
        {
            return ValueTask.FromResult(new PresenceStats(presence.Members.Count, presence.UserCounts.Count));
        }
    }

    /// <inheritdoc />
    public ValueTask<int[]> GetUserConnectionsAsync(string channel, IReadOnlyList<string> users, CancellationToken cancellation = default)
    {
        if (!_channels.TryGetValue(channel, out var presence))
        {
            return ValueTask.FromResult(new int[users.Count]);
        }
        lock (presence)
        {
            return ValueTask.FromResult(presence.CountsOf(users));
        }
    }

    /// <summary>One presence set (a channel's, or who is online) and its per-user counts; callers hold its lock.</summary>
    private sealed class ChannelPresence
    {
        public readonly SortedList<string, PresenceEntry> Members = new(StringComparer.Ordinal);
        public readonly Dictionary<string, int> UserCounts = new(StringComparer.Ordinal);
        public bool Removed;

        public PresenceChange Add(PresenceEntry entry)
        {
            var added = !Members.ContainsKey(entry.ClientId);
            Members[entry.ClientId] = entry;
            var count = 0;
            if (entry.UserId.Length > 0)
            {
                UserCounts.TryGetValue(entry.UserId, out count);
                if (added)
                {
                    UserCounts[entry.UserId] = ++count;
                }
            }
            return new PresenceChange(added, count);
        }

        public PresenceChange Remove(string clientId)
        {
            if (!Members.Remove(clientId, out var entry))
            {
                return new PresenceChange(false, 0);
            }
            var count = 0;
            if (entry.UserId.Length > 0 && UserCounts.TryGetValue(entry.UserId, out count))
            {
                count--;
                if (count == 0)
                {
                    UserCounts.Remove(entry.UserId);
                }
                else
                {
                    UserCounts[entry.UserId] = count;
                }
            }
            return new PresenceChange(true, count);
        }

        public int[] CountsOf(IReadOnlyList<string> users)
        {
            var counts = new int[users.Count];
            for (var i = 0; i < counts.Length; i++)
            {
                counts[i] = UserCounts.GetValueOrDefault(users[i]);
            }
            return counts;
        }
    }
}
