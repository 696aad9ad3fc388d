using Herald.Core.Channels;
using Herald.Core.Connections;
using Herald.Core.Engine;
using Microsoft.Extensions.Logging;

namespace Herald.Core.Hub;

/// <summary>
/// A connection joining and leaving channels and its user, with every consequence as an explicit step: the hub's
/// tables change, the node listens to exactly the broker topics it has connections for (<see cref="TopicSubscriptions"/>),
/// presence records the change and announces it (<see cref="PresenceAnnouncer"/>), and in a cluster the shared record
/// of who is online follows. Client sessions, the backend's control commands and the node's close all go through here,
/// so the tables and what follows from them never disagree. Thread-safe.
/// </summary>
internal sealed class Membership
{
    private readonly ConnectionHub _hub;
    private readonly IBroker _broker;
    private readonly NodeOptions _options;
    private readonly IPresenceStore _store;
    private readonly PresenceAnnouncer _presence;
    private readonly ILogger _logger;
    private volatile bool _stopped;

    public Membership(ConnectionHub hub, IBroker broker, ChannelPolicy policy, IPresenceStore presence, NodeOptions options, string nodeId, ILogger logger)
    {
        (_hub, _broker, _options, _logger) = (hub, broker, options, logger);
        _store = presence;
        _presence = new PresenceAnnouncer(broker, policy, presence, nodeId, logger);
        Topics = new TopicSubscriptions(broker, WantsTopic, (topic, ex) => NodeLog.BrokerFailed(_logger, "subscribing to", topic.ToString(), ex.Message));
    }

    /// <summary>The broker topics this node listens to.</summary>
    public TopicSubscriptions Topics { get; }

    /// <summary>For each of <paramref name="users"/> (in order), its connections on every node; and how many users are online in all (a cluster's shared record: a single node asks its user index).</summary>
    public ValueTask<(int[] Connections, int TotalUsers)> CountOnlineAsync(IReadOnlyList<string> users, CancellationToken cancellation) =>
        _store.CountOnlineAsync(users, cancellation);

    /// <summary>The node is stopping: it no longer wants the broadcast topic.</summary>
    public void Stop() => _stopped = true;

    /// <summary>
    /// Subscribes <paramref name="connection"/> to <paramref name="channel"/> and records its presence there. Subscribing
    /// twice is harmless: the connection stays subscribed once. True when newly subscribed.
    /// </summary>
    public bool Subscribe(Connection connection, string channel)
    {
        if (!connection.AddChannel(channel))
        {
            return false;
        }
        AddToChannel(channel, connection);
        if (connection.State >= ConnectionState.Closing)
        {
            RemoveFromChannel(channel, connection); // closed meanwhile: do not leave it behind
            return false;
        }
        _presence.Joined(connection, channel);
        if (connection.State == ConnectionState.Closed)
        {
            _presence.Left(connection, channel); // closed while joining: the leave may have run first (leaving is idempotent)
        }
        return true;
    }

    /// <summary>Unsubscribes <paramref name="connection"/> from <paramref name="channel"/>; true when it was subscribed.</summary>
    public bool Unsubscribe(Connection connection, string channel)
    {
        if (!connection.RemoveChannel(channel))
        {
            return false;
        }
        RemoveFromChannel(channel, connection);
        connection.ForgetReplayed(channel); // a client churning through names on one connection must not pile up marks
        _presence.Left(connection, channel);
        return true;
    }

    /// <summary>
    /// Adds a connection of <paramref name="user"/> (false: the user has max_connections_per_user already); then the node
    /// listens to the user's topic, and in a cluster records the connection as online for the other nodes.
    /// </summary>
    public bool TryAddUserConnection(string user, Connection connection)
    {
        if (!_hub.Users.TryAdd(user, connection, _options.MaxConnectionsPerUser, out var added))
        {
            return false;
        }
        if (added)
        {
            Topics.Reconcile(BrokerTopic.User(user));
            RecordOnline(user, connection, online: true);
        }
        return true;
    }

    /// <summary>
    /// Takes a closed connection (already out of the registry) out of everything it joined: its channels (with their
    /// presence), the attribute index, its user.
    /// </summary>
    public void LeaveAll(Connection connection)
    {
        foreach (var channel in connection.MarkClosedAndTakeChannels())
        {
            RemoveFromChannel(channel, connection);
            _presence.Left(connection, channel);
        }
        _hub.Attributes.Remove(connection);
        if (connection.UserId.Length > 0 && _hub.Users.Remove(connection.UserId, connection))
        {
            StopListeningIfUnwanted(BrokerTopic.User(connection.UserId));
            RecordOnline(connection.UserId, connection, online: false);
        }
    }

    /// <summary>Waits until this node receives <paramref name="topic"/> (no wait on a single node).</summary>
    public Task TopicReadyAsync(BrokerTopic topic) => Topics.ReadyAsync(topic);

    /// <summary>Adds a subscriber to the channel table; the channel's first subscriber here makes the node listen to its topic.</summary>
    private void AddToChannel(string channel, Connection connection)
    {
        if (_hub.Channels.Add(channel, connection))
        {
            Topics.Reconcile(BrokerTopic.Channel(channel));
        }
    }

    /// <summary>Removes a subscriber from the channel table; after the last one the node stops listening to the channel's topic.</summary>
    private void RemoveFromChannel(string channel, Connection connection)
    {
        if (_hub.Channels.Remove(channel, connection))
        {
            StopListeningIfUnwanted(BrokerTopic.Channel(channel));
        }
    }

    private void StopListeningIfUnwanted(BrokerTopic topic)
    {
        if (!WantsTopic(topic))
        {
            _hub.ForgetLastSeen(topic);
        }
        Topics.Reconcile(topic);
    }

    private bool WantsTopic(BrokerTopic topic) => topic.Kind switch
    {
        BrokerTopicKind.Channel => _hub.Channels.SubscriberCount(topic.Name) > 0,
        BrokerTopicKind.User => _hub.Users.Contains(topic.Name),
        _ => !_stopped,
    };

    /// <summary>
    /// In a cluster, records in the shared store that the connection is (or is no longer) online; a single node asks its
    /// user index instead. A connect's reply waits for the record (<see cref="Connection.AddPendingPresence"/>).
    /// </summary>
    private void RecordOnline(string user, Connection connection, bool online)
    {
        if (_broker.IsLocal)
        {
            return;
        }
        var change = online ? _store.AddOnlineAsync(connection.Id, user) : _store.RemoveOnlineAsync(connection.Id, user);
        if (!change.IsCompletedSuccessfully)
        {
            var stored = ObserveAsync(change.AsTask(), user);
            if (online)
            {
                connection.AddPendingPresence(stored);
            }
        }
    }

    private async Task ObserveAsync(Task task, string user)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            NodeLog.BrokerFailed(_logger, "online", user, ex.Message);
        }
    }
}
