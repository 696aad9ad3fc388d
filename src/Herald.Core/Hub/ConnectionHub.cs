using System.Collections.Concurrent;
using Herald.Core.Attributes;
using Herald.Core.Channels;
using Herald.Core.Connections;
using Herald.Core.Engine;
using Herald.Core.Protocols;
using Herald.Core.Routing;
using Herald.Core.Users;
using Herald.Protocol;

namespace Herald.Core.Hub;

/// <summary>
/// This node's connections and the indexes that find them (by id, by channel, by user, by attribute), and the fan-out
/// of what the broker hands the node to them: one delivery loop for every kind of target. Per stream (a channel's
/// history, a user's inbox) a gate orders deliveries against recoveries: a recovery holds it while it reads, and what
/// arrives meanwhile waits, then skips what the recovery already sent (<see cref="Connection.IsNewOnStream"/>).
/// Thread-safe.
/// </summary>
internal sealed class ConnectionHub
{
    [ThreadStatic] private static List<Connection>? t_recipients;

    private readonly TimeProvider _time;
    private readonly bool _trackPositions;
    private readonly ConcurrentDictionary<BrokerTopic, (string Epoch, ulong Offset)> _lastSeen = new();
    private readonly ConcurrentDictionary<string, (HashSet<Connection> Seen, long At)> _recentPublishes = new(StringComparer.Ordinal);

    /// <summary>
    /// Creates the hub. With <paramref name="trackPositions"/> (a cluster), it remembers the last stream position
    /// delivered per topic, for the check after the broker's link came back (<see cref="TryGetLastSeen"/>).
    /// </summary>
    public ConnectionHub(TimeProvider time, bool trackPositions)
    {
        _time = time;
        _trackPositions = trackPositions;
        ChannelGates = new StreamPipes(time);
        UserGates = new StreamPipes(time);
    }

    /// <summary>Every open connection by id.</summary>
    public ConnectionRegistry Connections { get; } = new();

    /// <summary>Channel to subscribed connections.</summary>
    public ChannelTable Channels { get; } = new();

    /// <summary>User to that user's connections.</summary>
    public UserIndex Users { get; } = new();

    /// <summary>Attribute pairs to the connections that have them.</summary>
    public AttributeIndex Attributes { get; } = new();

    /// <summary>Per channel with history, the gate a recovery holds while it reads.</summary>
    public StreamPipes ChannelGates { get; }

    /// <summary>Per user with an inbox, the gate a recovery holds while it reads.</summary>
    public StreamPipes UserGates { get; }

    /// <summary>Stream gates held now (they are per name: the bounds tests watch them).</summary>
    public int GateCount => ChannelGates.Count + UserGates.Count;

    /// <summary>
    /// Delivers what the broker handed this node on <paramref name="topic"/> to the connections concerned; returns how
    /// many it reached. Stored publications wait for the stream's gate (see the class summary).
    /// </summary>
    public ValueTask<int> DeliverAsync(BrokerTopic topic, BrokerMessage message)
    {
        if (topic.Kind == BrokerTopicKind.Broadcast)
        {
            if (message.Kind != BrokerMessageKind.Publication)
            {
                return new ValueTask<int>(0);
            }
            var publication = PublicationOf(message);
            return new ValueTask<int>(DeliverToMatching(publication.Where ?? WhereFilter.All, publication));
        }
        if (message.Offset == 0 && message.Kind == BrokerMessageKind.Publication)
        {
            return new ValueTask<int>(DeliverToStream(topic, message)); // not stored: nothing for a recovery to order it against
        }
        return DeliverInOrderAsync(topic, message);
    }

    /// <summary>Delivers a stored publication, or a join/leave push, once no recovery of the stream is reading.</summary>
    private async ValueTask<int> DeliverInOrderAsync(BrokerTopic topic, BrokerMessage message)
    {
        var gates = topic.Kind == BrokerTopicKind.Channel ? ChannelGates : UserGates;
        var gate = await gates.EnterAsync(topic.Name, quiesce: false).ConfigureAwait(false);
        try
        {
            if (_trackPositions && message.Offset != 0)
            {
                // Only for the position check after a reconnect; gaps are noticed per subscription by the broker.
                _lastSeen.AddOrUpdate(topic, (message.Epoch, message.Offset),
                    (_, last) => last.Epoch != message.Epoch || message.Offset > last.Offset ? (message.Epoch, message.Offset) : last);
            }
            return DeliverToStream(topic, message);
        }
        finally
        {
            gate.Gate.Release();
        }
    }

    /// <summary>Delivers to a channel's subscribers or a user's connections: a publication, or a join or leave.</summary>
    private int DeliverToStream(BrokerTopic topic, BrokerMessage message)
    {
        var recipients = RentRecipients();
        CopyConnections(topic, recipients);
        try
        {
            if (message.Kind == BrokerMessageKind.Frame)
            {
                // The cluster wire carries joins and leaves as herald.v1 frames (PresenceWire: what earlier builds send).
                return PresenceWire.TryRead(message.Data, out var change) ? SendEvent(recipients, change, message.Exclude) : 0;
            }
            if (message.Kind != BrokerMessageKind.Publication)
            {
                return 0;
            }
            var publication = PublicationOf(message);
            var firstTime = message.Targets <= 1 ? null : message.Local is { } local ? local.FirstTimeForPlain : FirstTimeFor(message.PublishId);
            var inbox = topic.Kind == BrokerTopicKind.User;
            return Deliver(recipients, publication, publication.Where, firstTime, inbox ? null : topic.Name, message.Offset, inbox,
                message.Offset != 0 ? message.Epoch : null);
        }
        finally
        {
            ReturnRecipients(recipients);
        }
    }

    /// <summary>
    /// Tells <paramref name="recipients"/> (ready, except <paramref name="exclude"/>) of <paramref name="clientEvent"/>,
    /// each in its protocol's frame: encoded once per protocol, skipped by protocols that do not tell it. Returns how
    /// many were sent it.
    /// </summary>
    private static int SendEvent(List<Connection> recipients, ClientEvent clientEvent, string exclude)
    {
        var frames = new EventFrames(clientEvent);
        var sent = 0;
        foreach (var connection in recipients)
        {
            if (connection.State == ConnectionState.Ready && connection.Id != exclude && frames.For(connection.Protocol) is { } frame)
            {
                sent += connection.TrySend(frame) ? 1 : 0;
            }
        }
        return sent;
    }

    /// <summary>
    /// The one delivery loop: queues the publication for every ready recipient that matches <paramref name="where"/>,
    /// in the frame of the recipient's protocol (<see cref="IClientProtocol.PushFrame"/>: asked once per protocol and
    /// fan-out, encoded once per publish, shared). Clients that cannot tell targets apart get a publish once (when
    /// <paramref name="firstTime"/> says so); with <paramref name="streamEpoch"/>, the others that a recovery already
    /// sent this offset to are skipped. <paramref name="channel"/>, <paramref name="offset"/> and <paramref name="inbox"/>
    /// say how it was delivered (see <see cref="IClientProtocol.PushFrame"/>). The sends run as the publisher asked
    /// (<see cref="Publication.Dispatch"/>).
    /// </summary>
    private static int Deliver(List<Connection> recipients, Publication publication, WhereFilter? where, Func<Connection, bool>? firstTime,
        string? channel, ulong offset, bool inbox, string? streamEpoch = null)
    {
        IClientProtocol? protocol = null;
        byte[]? frame = null;
        var oneCopy = false;
        var delivered = 0;
        var batch = FlushBatch.For(publication.Dispatch);
        try
        {
            foreach (var connection in recipients)
            {
                if (connection.State != ConnectionState.Ready || (where is not null && !connection.Attributes.Matches(where)) || publication.Excludes(connection))
                {
                    continue;
                }
                var speaks = connection.Protocol;
                if (!ReferenceEquals(speaks, protocol))
                {
                    (protocol, frame, oneCopy) = (speaks, null, speaks.OneCopyPerPublish);
                }
                if (oneCopy ? firstTime is not null && !firstTime(connection)
                    : streamEpoch is not null && !connection.IsNewOnStream(channel ?? "", streamEpoch, offset))
                {
                    continue; // reached through another target of the publish, or a recovery already sent it
                }
                frame ??= protocol!.PushFrame(publication, channel, offset, inbox);
                delivered += connection.TrySend(frame, batch) ? 1 : 0;
            }
        }
        finally
        {
            batch?.Dispatch(); // every connection the batch took must be flushed
        }
        return delivered;
    }

    /// <summary>Delivers an attribute-targeted publication to every connection whose attributes match (found by index, not by scan).</summary>
    private int DeliverToMatching(WhereFilter where, Publication publication)
    {
        var recipients = RentRecipients();
        if (where.MatchesAll)
        {
            recipients.AddRange(Connections.All);
        }
        else
        {
            Attributes.Match(where, recipients);
        }
        // The index already matched them: no filter to apply again.
        var delivered = Deliver(recipients, publication, where: null, firstTime: null, channel: null, offset: 0, inbox: false);
        ReturnRecipients(recipients);
        return delivered;
    }

    /// <summary>Appends the connections of a channel or user topic to <paramref name="into"/>.</summary>
    public void CopyConnections(BrokerTopic topic, List<Connection> into)
    {
        if (topic.Kind == BrokerTopicKind.Channel)
        {
            Channels.CopySubscribers(topic.Name, into);
        }
        else if (topic.Kind == BrokerTopicKind.User)
        {
            Users.CopyConnections(topic.Name, into);
        }
    }

    /// <summary>
    /// Tells the connections of <paramref name="topic"/> whose protocol recovers (<see cref="IClientProtocol.Recovers"/>)
    /// that they may have missed publications: they are closed
    /// with <see cref="DisconnectCodes.InsufficientState"/> and recover from history when they reconnect. Returns how many.
    /// </summary>
    public int AskToRecover(BrokerTopic topic)
    {
        var connections = RentRecipients();
        CopyConnections(topic, connections);
        var count = 0;
        foreach (var connection in connections)
        {
            if (connection.Protocol.Recovers && connection.State == ConnectionState.Ready)
            {
                connection.Disconnect(DisconnectCodes.InsufficientState, "messages may have been missed: reconnect and recover");
                count++;
            }
        }
        ReturnRecipients(connections);
        return count;
    }

    /// <summary>The last stream position delivered on <paramref name="topic"/>, when positions are tracked (a cluster).</summary>
    public bool TryGetLastSeen(BrokerTopic topic, out (string Epoch, ulong Offset) seen) => _lastSeen.TryGetValue(topic, out seen);

    /// <summary>Forgets the last position of a topic this node no longer has connections for.</summary>
    public void ForgetLastSeen(BrokerTopic topic) => _lastSeen.TryRemove(topic, out _);

    /// <summary>
    /// The publication as the publisher prepared it when the broker delivers in process; else made from what the broker
    /// carried (once per topic: a cluster's broker hands each topic its own copy).
    /// </summary>
    private static Publication PublicationOf(BrokerMessage message) =>
        message.Local ?? new Publication(message.Data, message.DataIsString, message.Where is null ? null : AttributeJson.ReadWhere(message.Where))
        {
            Event = message.Event,
            ExceptConnection = message.Exclude.Length == 0 ? null : message.Exclude,
        };

    /// <summary>For a publish another node sent to several topics: whether a plain connection is reached for the first time (it gets one copy).</summary>
    private Func<Connection, bool> FirstTimeFor(string publishId)
    {
        var seen = _recentPublishes.GetOrAdd(publishId, static (_, now) => ([], now), _time.GetTimestamp()).Seen;
        return connection =>
        {
            lock (seen)
            {
                return seen.Add(connection);
            }
        };
    }

    /// <summary>Forgets the marks of multi-topic publishes: their topics are delivered within milliseconds of each other.</summary>
    public void SweepRecentPublishes()
    {
        foreach (var (id, entry) in _recentPublishes)
        {
            if (_time.GetElapsedTime(entry.At) > TimeSpan.FromSeconds(5))
            {
                _recentPublishes.TryRemove(id, out _);
            }
        }
    }

    /// <summary>A list to collect recipients in, reused per thread (a fan-out allocates nothing per delivery).</summary>
    public static List<Connection> RentRecipients()
    {
        var list = t_recipients ?? new List<Connection>(256);
        t_recipients = null; // taken: a nested use on this thread gets its own list
        list.Clear();
        return list;
    }

    /// <summary>Gives a list from <see cref="RentRecipients"/> back.</summary>
    public static void ReturnRecipients(List<Connection> list)
    {
        list.Clear();
        if (list.Capacity <= 64 * 1024)
        {
            t_recipients = list; // keep small lists for the next publish on this thread, not a rare giant one
        }
    }
}
