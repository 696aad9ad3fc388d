using System.Text.Json;
using Herald.Core.Attributes;
using Herald.Core.Connections;
using Herald.Core.Engine;
using Herald.Core.Hub;
using Herald.Core.Protocols.HeraldV1;

namespace Herald.Core;

/// <summary>The node's queries (the HTTP API's and herald.v1's): presence, who is online, connections, channels.</summary>
public sealed partial class Node
{
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
        users.Distinct(StringComparer.Ordinal).ToDictionary(u => u, _hub.Users.CountOf, StringComparer.Ordinal);

    /// <summary>Connections whose attributes match <paramref name="where"/>, and their distinct users.</summary>
    public (int Connections, int Users) Count(WhereFilter where)
    {
        var recipients = ConnectionHub.RentRecipients();
        if (where.MatchesAll)
        {
            recipients.AddRange(_hub.Connections.All);
        }
        else
        {
            _hub.Attributes.Match(where, recipients);
        }
        var ready = recipients.Where(c => c.State == ConnectionState.Ready).ToList();
        ConnectionHub.ReturnRecipients(recipients);
        return (ready.Count, ready.Where(c => c.UserId.Length > 0).Select(c => c.UserId).Distinct(StringComparer.Ordinal).Count());
    }

    /// <summary>Up to <paramref name="limit"/> (plus one, to tell whether more follow) connections matching <paramref name="where"/>, ordered by id, after <paramref name="cursor"/>.</summary>
    public IReadOnlyList<Connection> ConnectionsMatching(WhereFilter where, string? cursor, int limit)
    {
        var recipients = ConnectionHub.RentRecipients();
        if (where.MatchesAll)
        {
            recipients.AddRange(_hub.Connections.All);
        }
        else
        {
            _hub.Attributes.Match(where, recipients);
        }
        var page = recipients.Where(c => c.State == ConnectionState.Ready && (cursor is null || string.CompareOrdinal(c.Id, cursor) > 0))
            .OrderBy(c => c.Id, StringComparer.Ordinal).Take(Math.Clamp(limit, 1, 1000) + 1).ToList();
        ConnectionHub.ReturnRecipients(recipients);
        return page;
    }

    /// <summary>
    /// Active channels with their subscriber counts, by name, after <paramref name="cursor"/>, filtered by prefix; up to
    /// <paramref name="limit"/> plus one, so the caller knows whether another page follows.
    /// </summary>
    public IReadOnlyList<(string Channel, int Subscribers)> ChannelsPage(string? prefix, string? cursor, int limit) =>
        _hub.Channels.Page(prefix, cursor, Math.Clamp(limit, 1, 1000) + 1);

    /// <summary>Connections of a user, or the one connection with an id.</summary>
    public IReadOnlyList<Connection> Find(string? user, string? client)
    {
        if (client is not null)
        {
            return _hub.Connections.TryGet(client, out var connection) ? [connection] : [];
        }
        var list = new List<Connection>();
        _hub.Users.CopyConnections(user ?? "", list);
        return list;
    }
}
