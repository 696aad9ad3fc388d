using System.Text.Json;
using Herald.Core.Attributes;
using Herald.Core.Connections;
using Herald.Core.Engine;
using Herald.Core.Protocols.HeraldV1;
using Herald.Protocol;

namespace Herald.Core;

public sealed partial class Node
{
    /// <summary>Records that <paramref name="connection"/> joined <paramref name="channel"/>, and tells the others when the namespace asks.</summary>
    private void PresenceJoined(Connection connection, string channel)
    {
        var ns = _policy.ResolveKnown(channel);
        if (!ns.Presence)
        {
            return;
        }
        var change = _presence.AddAsync(channel, new PresenceEntry(connection.Id, connection.UserId, connection.Info));
        if (change.IsCompletedSuccessfully)
        {
            AnnouncePresence(ProtocolNames.Pushes.Join, connection, channel, ns, change.Result);
        }
        else
        {
            connection.AddPendingPresence(AwaitPresenceAsync(change, ProtocolNames.Pushes.Join, connection, channel, ns));
        }
    }

    /// <summary>Records that <paramref name="connection"/> left <paramref name="channel"/> (unsubscribed or closed).</summary>
    private void PresenceLeft(Connection connection, string channel)
    {
        var ns = _policy.ResolveKnown(channel);
        if (!ns.Presence)
        {
            return;
        }
        var change = _presence.RemoveAsync(channel, connection.Id, connection.UserId);
        if (change.IsCompletedSuccessfully)
        {
            AnnouncePresence(ProtocolNames.Pushes.Leave, connection, channel, ns, change.Result);
        }
        else
        {
            _ = AwaitPresenceAsync(change, ProtocolNames.Pushes.Leave, connection, channel, ns);
        }
    }

    private async Task AwaitPresenceAsync(ValueTask<PresenceChange> change, string kind, Connection connection, string channel, Channels.NamespaceOptions ns)
    {
        try
        {
            AnnouncePresence(kind, connection, channel, ns, await change.ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            NodeLog.PresenceFailed(_logger, channel, ex.Message);
        }
    }

    private void AnnouncePresence(string kind, Connection connection, string channel, Channels.NamespaceOptions ns, PresenceChange change)
    {
        if (!ns.JoinLeave || !change.Changed)
        {
            return;
        }
        // Per user: the first connection joins, the last one leaves; the devices in between are silent.
        var userCount = kind == ProtocolNames.Pushes.Join ? 1 : 0;
        if (ns.JoinLeavePerUser && connection.UserId.Length > 0 && change.UserConnections != userCount)
        {
            return;
        }
        // Through the broker: the channel's subscribers on every node get it (on one node, in process).
        AnnounceThroughBroker(channel, ServerFrames.Presence(kind, channel, connection.Id, connection.UserId, connection.Info), connection.Id);
    }

    /// <summary>A page of the channel's presence (any node's members once presence is shared).</summary>
    public ValueTask<PresencePage> PresenceAsync(string channel, string? cursor, int limit, CancellationToken cancellation = default) =>
        _presence.GetAsync(channel, cursor, Math.Clamp(limit, 1, 1000), cancellation);

    /// <summary>The channel's presence counts, maintained with every change (never a walk over members).</summary>
    public ValueTask<PresenceStats> PresenceStatsAsync(string channel, CancellationToken cancellation = default) =>
        _presence.GetStatsAsync(channel, cancellation);

    /// <summary>Writes <c>"members":[{"client","user","info"}...],"cursor":...</c>: a presence page as herald.v1 and the HTTP API show it.</summary>
    public static void WritePresencePage(Utf8JsonWriter w, PresencePage page) => HeraldV1Results.WritePresencePage(w, page);

    /// <summary>For each user, how many connections it has on this node.</summary>
    public IReadOnlyDictionary<string, int> Online(IEnumerable<string> users) =>
        users.Distinct(StringComparer.Ordinal).ToDictionary(u => u, _users.CountOf, StringComparer.Ordinal);

    /// <summary>Connections whose attributes match <paramref name="where"/>, and their distinct users.</summary>
    public (int Connections, int Users) Count(WhereFilter where)
    {
        var recipients = RentRecipients();
        if (where.MatchesAll)
        {
            recipients.AddRange(_connections.All);
        }
        else
        {
            _index.Match(where, recipients);
        }
        var ready = recipients.Where(c => c.State == ConnectionState.Ready).ToList();
        ReturnRecipients(recipients);
        return (ready.Count, ready.Where(c => c.UserId.Length > 0).Select(c => c.UserId).Distinct(StringComparer.Ordinal).Count());
    }

    /// <summary>Up to <paramref name="limit"/> (plus one, to tell whether more follow) connections matching <paramref name="where"/>, ordered by id, after <paramref name="cursor"/>.</summary>
    public IReadOnlyList<Connection> ConnectionsMatching(WhereFilter where, string? cursor, int limit)
    {
        var recipients = RentRecipients();
        if (where.MatchesAll)
        {
            recipients.AddRange(_connections.All);
        }
        else
        {
            _index.Match(where, recipients);
        }
        var page = recipients.Where(c => c.State == ConnectionState.Ready && (cursor is null || string.CompareOrdinal(c.Id, cursor) > 0))
            .OrderBy(c => c.Id, StringComparer.Ordinal).Take(Math.Clamp(limit, 1, 1000) + 1).ToList();
        ReturnRecipients(recipients);
        return page;
    }

    /// <summary>
    /// Active channels with their subscriber counts, by name, after <paramref name="cursor"/>, filtered by prefix; up to
    /// <paramref name="limit"/> plus one, so the caller knows whether another page follows.
    /// </summary>
    public IReadOnlyList<(string Channel, int Subscribers)> ChannelsPage(string? prefix, string? cursor, int limit) =>
        _channels.Page(prefix, cursor, Math.Clamp(limit, 1, 1000) + 1);

    /// <summary>Connections of a user, or the one connection with an id.</summary>
    public IReadOnlyList<Connection> Find(string? user, string? client)
    {
        if (client is not null)
        {
            return _connections.TryGet(client, out var connection) ? [connection] : [];
        }
        var list = new List<Connection>();
        _users.CopyConnections(user ?? "", list);
        return list;
    }

    /// <summary>Subscribes live connections to a channel from the backend; native ones get a subscribe push.</summary>
    public int SubscribeFromServer(IReadOnlyList<Connection> connections, string channel)
    {
        if (_policy.Resolve(channel, out var error) is null)
        {
            throw new NodeRequestException(ErrorCodes.UnknownNamespace, error);
        }
        var count = 0;
        foreach (var connection in connections)
        {
            if (connection.State == ConnectionState.Ready && connection.ChannelCount < Options.MaxChannelsPerConnection && AddSubscription(connection, channel))
            {
                if (connection.Kind == ConnectionKind.Native)
                {
                    connection.TrySend(ServerFrames.SubscriptionChanged(ProtocolNames.Pushes.Subscribe, channel));
                }
                count++;
            }
        }
        return count;
    }

    /// <summary>Unsubscribes live connections from a channel from the backend; native ones get an unsubscribe push.</summary>
    public int UnsubscribeFromServer(IReadOnlyList<Connection> connections, string channel)
    {
        var count = 0;
        foreach (var connection in connections)
        {
            if (RemoveSubscription(connection, channel))
            {
                if (connection.Kind == ConnectionKind.Native)
                {
                    connection.TrySend(ServerFrames.SubscriptionChanged(ProtocolNames.Pushes.Unsubscribe, channel));
                }
                count++;
            }
        }
        return count;
    }

    /// <summary>Sets attributes from the backend: trusted, they replace what the client said and what the token said.</summary>
    public int SetAttributesFromServer(IReadOnlyList<Connection> connections, AttributeSet attributes)
    {
        foreach (var connection in connections)
        {
            connection.TokenAttributes = attributes;
            _index.Set(connection, attributes);
        }
        return connections.Count;
    }
}
