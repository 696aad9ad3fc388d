using System.Collections.Concurrent;

namespace Herald.Core.Engine;

/// <summary>
/// Presence of this node's channels in memory: per channel a sorted set of members and a count per user, so stats
/// are O(1) and a page is O(page) after an O(log n) seek.
/// </summary>
public sealed class MemoryPresenceStore : IPresenceStore
{
    private readonly ConcurrentDictionary<string, ChannelPresence> _channels = new(StringComparer.Ordinal);

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
                var added = !presence.Members.ContainsKey(entry.ClientId);
                presence.Members[entry.ClientId] = entry;
                var count = 0;
                if (entry.UserId.Length > 0)
                {
                    presence.UserCounts.TryGetValue(entry.UserId, out count);
                    if (added)
                    {
                        presence.UserCounts[entry.UserId] = ++count;
                    }
                }
                return ValueTask.FromResult(new PresenceChange(added, count));
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
            if (!presence.Members.Remove(clientId, out var entry))
            {
                return ValueTask.FromResult(new PresenceChange(false, 0));
            }
            var count = 0;
            if (entry.UserId.Length > 0 && presence.UserCounts.TryGetValue(entry.UserId, out count))
            {
                count--;
                if (count == 0)
                {
                    presence.UserCounts.Remove(entry.UserId);
                }
                else
                {
                    presence.UserCounts[entry.UserId] = count;
                }
            }
            if (presence.Members.Count == 0)
            {
                presence.Removed = true;
                _channels.TryRemove(new KeyValuePair<string, ChannelPresence>(channel, presence));
            }
            return ValueTask.FromResult(new PresenceChange(true, count));
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
        var counts = new int[users.Count];
        if (_channels.TryGetValue(channel, out var presence))
        {
            lock (presence)
            {
                for (var i = 0; i < counts.Length; i++)
                {
                    counts[i] = presence.UserCounts.GetValueOrDefault(users[i]);
                }
            }
        }
        return ValueTask.FromResult(counts);
    }

    private sealed class ChannelPresence
    {
        public readonly SortedList<string, PresenceEntry> Members = new(StringComparer.Ordinal);
        public readonly Dictionary<string, int> UserCounts = new(StringComparer.Ordinal);
        public bool Removed;
    }
}
