using System.Collections.Concurrent;
using Herald.Core.Connections;

namespace Herald.Core.Channels;

/// <summary>
/// Channel name to subscribed connections. Thread-safe; a channel exists while it has subscribers and is dropped
/// when the last one leaves. An index only: what follows from a first or last subscriber (the broker topic) is the
/// caller's explicit next step.
/// </summary>
internal sealed class ChannelTable
{
    private readonly ConcurrentDictionary<string, Subscribers> _channels = new(StringComparer.Ordinal);

    /// <summary>Channels with at least one subscriber.</summary>
    public int Count => _channels.Count;

    /// <summary>Adds a subscriber; true when it is the channel's first on this node.</summary>
    public bool Add(string channel, Connection connection)
    {
        while (true)
        {
            var subscribers = _channels.GetOrAdd(channel, static _ => new Subscribers());
            lock (subscribers)
            {
                if (subscribers.Removed)
                {
                    continue; // lost a race with the removal of an emptied channel: take the new instance
                }
                if (subscribers.Set.Add(connection) && subscribers.Set.Count == 1)
                {
                    break;
                }
                return false;
            }
        }
        return true;
    }

    /// <summary>Removes a subscriber; true when it was the channel's last on this node.</summary>
    public bool Remove(string channel, Connection connection)
    {
        if (!_channels.TryGetValue(channel, out var subscribers))
        {
            return false;
        }
        lock (subscribers)
        {
            if (!subscribers.Set.Remove(connection) || subscribers.Set.Count != 0)
            {
                return false;
            }
            subscribers.Removed = true;
            _channels.TryRemove(new KeyValuePair<string, Subscribers>(channel, subscribers));
        }
        return true;
    }

    /// <summary>Appends the current subscribers of <paramref name="channel"/> to <paramref name="into"/>.</summary>
    public void CopySubscribers(string channel, List<Connection> into)
    {
        if (!_channels.TryGetValue(channel, out var subscribers))
        {
            return;
        }
        lock (subscribers)
        {
            into.AddRange(subscribers.Set);
        }
    }

    /// <summary>Number of subscribers of <paramref name="channel"/>.</summary>
    public int SubscriberCount(string channel)
    {
        if (!_channels.TryGetValue(channel, out var subscribers))
        {
            return 0;
        }
        lock (subscribers)
        {
            return subscribers.Set.Count;
        }
    }

    /// <summary>
    /// Channels in name order after <paramref name="cursor"/>, filtered by <paramref name="prefix"/>, with subscriber
    /// counts. Sorts the matching names on each call: fine for an admin page, not a hot path.
    /// </summary>
    public List<(string Channel, int Subscribers)> Page(string? prefix, string? cursor, int limit)
    {
        return [.. _channels.Keys
            .Where(c => (prefix is null || c.StartsWith(prefix, StringComparison.Ordinal)) && (cursor is null || string.CompareOrdinal(c, cursor) > 0))
            .Order(StringComparer.Ordinal)
            .Select(c => (c, SubscriberCount(c)))
            .Where(p => p.Item2 > 0) // emptied meanwhile: skip before counting the page, so pages stay full
            .Take(limit)];
    }

    private sealed class Subscribers
    {
        public readonly HashSet<Connection> Set = [];
        public bool Removed;
    }
}
