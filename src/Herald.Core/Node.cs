using Herald.Core.Attributes;
using Herald.Core.Auth;
using Herald.Core.Channels;
using Herald.Core.Connections;
using Herald.Core.Control;
using Herald.Core.Engine;
using Herald.Core.Housekeeping;
using Herald.Core.Hub;
using Herald.Core.Protocols;
using Herald.Core.Routing;
using Herald.Core.Sessions;
using Microsoft.Extensions.Logging;

namespace Herald.Core;

/// <summary>
/// One Herald process as the outside sees it: a façade over the parts that do the work (docs/architecture.md). The
/// hub (<see cref="ConnectionHub"/>) owns the connections and their indexes and fans out; the broker (a
/// <see cref="LocalBroker"/> on one node) orders, stores and hands out every publish; a client session runs each
/// connection's commands through its protocol's adapter; the keep-alive sweeper watches the connections. Transports
/// call <see cref="Open"/>, the <c>On...</c> methods and <see cref="OnClosed"/>; ingress and the HTTP API call
/// <see cref="PublishAsync(Routing.PublishRequest, CancellationToken)"/>, the queries and <see cref="ControlAsync"/>.
/// Every member is thread-safe.
/// </summary>
public sealed partial class Node : IDisposable
{
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly MonotonicClock _clock;
    private readonly ConnectionHub _hub;
    private readonly Membership _membership;
    private readonly SessionServices _sessions;
    private readonly ControlApplier _control;
    private readonly ChannelPolicy _policy;
    private readonly IBroker _broker;
    private readonly IHistoryStore _history;
    private readonly IInboxStore _inbox;
    private readonly IPresenceStore _presence;
    private readonly IdempotencyCache _idempotency;
    private readonly Publisher _publisher;
    private readonly StoreHealth _store;
    private readonly string _idPrefix;
    private long _nextId;
    private volatile bool _shuttingDown;

    /// <summary>
    /// Creates a node; call <see cref="Dispose"/> to stop its keep-alive timer. <paramref name="engine"/> says where it
    /// stores and what it publishes through (default: everything in memory, a single node). Without
    /// <paramref name="tokens"/> every token is refused as "not configured".
    /// </summary>
    public Node(NodeOptions options, ILogger<Node> logger, NodeEngine? engine = null, TimeProvider? time = null, ITokenVerifier? tokens = null)
    {
        engine ??= new NodeEngine();
        Options = options;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _clock = new MonotonicClock(_time);
        _store = new StoreHealth(logger);
        _idempotency = new IdempotencyCache(options.IdempotencyWindow, _time);
        _presence = engine.Presence ?? new MemoryPresenceStore();
        _history = engine.History ?? new MemoryHistoryStore(time);
        _inbox = engine.Inbox ?? new MemoryInboxStore(time);
        _broker = engine.Broker ?? new LocalBroker(_history, _inbox, _time);
        _idPrefix = (engine.NodeId ?? Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()))[..6]) + "-";
        Id = _idPrefix.TrimEnd('-'); // once: every publish names its origin
        StartedAt = _time.GetUtcNow();
        _policy = new ChannelPolicy(options);
        _publisher = new Publisher(_broker, _policy, _idempotency, engine.Idempotency, _store, options, Counters, Id, _time, logger);
        _hub = new ConnectionHub(_time, trackPositions: !_broker.IsLocal);
        _membership = new Membership(_hub, _broker, _policy, _presence, options, Id, logger);
        _sessions = new SessionServices(_hub, _membership, _policy, tokens, _history, _inbox, _presence, _publisher, _store, options, _clock, _time, logger);
        _control = new ControlApplier(_hub, _membership, _policy, options);
        _faultLog = LogThrottle.Default(_time);
        _keepAlive = new KeepAliveSweeper(_hub.Connections, options, logger);
        _timer = _time.CreateTimer(static s => ((Node)s!).Tick(), this, KeepAliveSweeper.Interval, KeepAliveSweeper.Interval);
        _broker.Start(new BrokerReceiver(_hub, _membership.Topics, _policy, _history, _inbox, options, Counters, Id, ApplyControl, logger));
        _membership.Topics.Reconcile(BrokerTopic.Broadcast);
    }

    /// <summary>Completes once this node receives the cluster's broadcast topic (at once on a single node).</summary>
    public Task BrokerReadyAsync() => _membership.TopicReadyAsync(BrokerTopic.Broadcast);

    /// <summary>This node's id (also the prefix of its connection ids).</summary>
    public string Id { get; }

    /// <summary>Users with at least one connection on this node.</summary>
    public int UserCount => _hub.Users.UserCount;

    /// <summary>The settings this node runs with.</summary>
    public NodeOptions Options { get; }

    /// <summary>When the node started.</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>Open connections.</summary>
    public int ConnectionCount => _hub.Connections.Count;

    /// <summary>Channels with at least one subscriber.</summary>
    public int ChannelCount => _hub.Channels.Count;

    /// <summary>Counters since start.</summary>
    public NodeCounters Counters { get; } = new();

    internal AttributeIndex AttributeIndex => _hub.Attributes;

    /// <summary>Now on the node's monotonic clock, in TimeSpan ticks.</summary>
    internal long NowTicks => _clock.Now;

    /// <summary>
    /// Registers a new connection. Connections whose protocol has no connect command (plain) are ready at once (with no
    /// attributes) unless <paramref name="plainToken"/> is given or tokens are required: then they wait for
    /// <see cref="AuthenticatePlainAsync"/>. The others (native) wait for <c>connect</c>. During shutdown the connection is
    /// closed straight away with code 4000.
    /// </summary>
    public Connection Open(IConnectionTransport transport, ConnectionKind kind, string remoteAddress, string? plainToken = null)
    {
        var protocol = ClientProtocols.For(kind);
        var id = protocol.ConnectionId(Id, Interlocked.Increment(ref _nextId));
        var awaitingAuth = protocol.ConnectsByCommand || plainToken is not null || (Options.RequireToken && protocol.AuthenticatesWithTokens);
        var connection = new Connection(this, id, kind, transport, remoteAddress, NowTicks, awaitingAuth);
        if (protocol.PingFrame is null && transport is IKeepAliveTransport)
        {
            // The first ping comes after half to all of the interval, so connections opened together (a reconnect
            // wave, a load balancer's restart) are not all pinged, and do not all answer, in the same tick.
            connection.LastPingTicks -= Random.Shared.NextInt64(Math.Max(1, Options.PingInterval.Ticks / 2));
        }
        _hub.Connections.Add(connection);
        Counters.ConnectionOpened();
        if (!awaitingAuth)
        {
            _hub.Attributes.Set(connection, AttributeSet.Empty);
        }
        NodeLog.ConnectionOpened(_logger, id, remoteAddress, kind);
        if (_shuttingDown)
        {
            connection.Disconnect(Protocol.DisconnectCodes.Shutdown, "server shutting down");
        }
        return connection;
    }

    /// <summary>Finds an open connection by id.</summary>
    public bool TryGetConnection(string id, out Connection connection) => _hub.Connections.TryGet(id, out connection);

    /// <summary>Number of connections of <paramref name="user"/> on this node.</summary>
    public int ConnectionCountOf(string user) => _hub.Users.CountOf(user);

    /// <summary>Number of subscribers of <paramref name="channel"/> on this node.</summary>
    public int SubscriberCount(string channel) => _hub.Channels.SubscriberCount(channel);

    /// <summary>
    /// Called by the transport once the connection is gone, whatever the reason: removes it from every table.
    /// </summary>
    public void OnClosed(Connection connection, int? closeCode, string? closeReason)
    {
        if (!_hub.Connections.Remove(connection))
        {
            return;
        }
        _membership.LeaveAll(connection);
        connection.Protocol.Closed(SessionFor(connection));
        Counters.ConnectionClosed();
        var seconds = TimeSpan.FromTicks(NowTicks - connection.OpenedAtTicks).TotalSeconds;
        NodeLog.ConnectionClosed(_logger, connection.Id, connection.RemoteAddress, closeCode ?? 1006, string.IsNullOrEmpty(closeReason) ? "" : " " + closeReason, Math.Round(seconds, 1));
    }

    /// <summary>The last storage error while it lasts (health reports it); null when storage works.</summary>
    public string? StoreError => _store.Error;

    private void StoreFailed(Exception ex) => _store.Failed(ex);

    private void StoreRecovered() => _store.Recovered();

    internal void OnSlowConsumer(Connection connection)
    {
        Counters.SlowConsumerDisconnected();
        NodeLog.SlowConsumer(_logger, connection.Id, connection.RemoteAddress, Options.SendQueueLimit, Options.SendQueueMaxBytes);
    }

    internal void OnSendFailed(Connection connection, Exception ex) => NodeLog.SendFailed(_logger, connection.Id, ex.GetType().Name, ex.Message);

    /// <summary>
    /// Graceful shutdown: refuses new connections, tells every client to reconnect (code 4000), and waits up to
    /// <paramref name="timeout"/> for them to close; connections still open then are aborted.
    /// </summary>
    public async Task ShutdownAsync(TimeSpan timeout)
    {
        _shuttingDown = true;
        foreach (var connection in _hub.Connections.All)
        {
            connection.Disconnect(Protocol.DisconnectCodes.Shutdown, "server shutting down");
        }
        var started = _time.GetTimestamp();
        while (_hub.Connections.Count > 0 && _time.GetElapsedTime(started) < timeout)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), _time).ConfigureAwait(false);
        }
        foreach (var connection in _hub.Connections.All)
        {
            connection.Abort();
        }
        NodeLog.ShutdownComplete(_logger, (long)_time.GetElapsedTime(started).TotalMilliseconds, _hub.Connections.Count);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _membership.Stop();
        _timer.Dispose();
    }
}
