using System.Security.Cryptography;
using System.Text;
using Herald.Core.Engine;
using Herald.Redis.Internal;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Herald.Redis;

/// <summary>
/// The Redis engine of one node: one connection (which reconnects by itself) shared by history, inboxes, presence and
/// the node registry, so many nodes on one Redis behave as one. While Redis is unreachable every store operation fails
/// at once with <see cref="StoreUnavailableException"/> (no queueing), and works again as soon as the connection is back.
/// </summary>
public sealed class RedisEngine : IAsyncDisposable
{
    private readonly ConnectionMultiplexer _connection;
    private readonly RedisPresenceStore _presence;
    private readonly NodeRegistry _registry;
    private readonly RedisBroker _broker;
    private readonly ILogger _logger;
    private int _disposed;

    private RedisEngine(ConnectionMultiplexer connection, RedisEngineOptions options, string nodeId, ILogger logger, TimeProvider time)
    {
        _connection = connection;
        _logger = logger;
        NodeId = nodeId;
        Keys = new RedisKeys(options.KeyPrefix);
        Runner = new RedisRunner(connection, options.Database, string.Join(", ", options.Addresses));
        History = new RedisHistoryStore(Runner, Keys, time, options.PositionTtl);
        Inbox = new RedisInboxStore(Runner, Keys, time, options.PositionTtl);
        _presence = new RedisPresenceStore(Runner, Keys, nodeId, options.HeartbeatInterval, options.NodeExpiry, logger, time);
        _registry = new NodeRegistry(Runner, Keys, nodeId, time.GetUtcNow(), options.HeartbeatInterval, options.NodeExpiry, logger);
        _broker = new RedisBroker(Runner, Keys, time, options, logger);
        Idempotency = new RedisIdempotencyStore(Runner, Keys);
        connection.ConnectionFailed += OnConnectionFailed;
        connection.ConnectionRestored += OnConnectionRestored;
    }

    /// <summary>This node's id in Redis: the configured name and a random suffix, new at every start.</summary>
    public string NodeId { get; }

    /// <summary>The names of the engine's keys.</summary>
    public RedisKeys Keys { get; }

    /// <summary>Channel history shared by every node.</summary>
    public IHistoryStore History { get; }

    /// <summary>User inboxes shared by every node.</summary>
    public IInboxStore Inbox { get; }

    /// <summary>Presence shared by every node; a dead node's entries expire.</summary>
    public IPresenceStore Presence => _presence;

    /// <summary>Fans publications out to every node through Redis pub/sub, appending to history and inboxes in the same step.</summary>
    public IBroker Broker => _broker;

    /// <summary>Idempotency keys shared by every node.</summary>
    public IIdempotencyStore Idempotency { get; }

    /// <summary>Whether the connection to Redis is up now.</summary>
    public bool IsConnected => _connection.IsConnected;

    /// <summary>The connection, for the rest of the engine (the broker).</summary>
    internal IConnectionMultiplexer Connection => _connection;

    internal RedisRunner Runner { get; }

    internal RedisPresenceStore PresenceStore => _presence;

    /// <summary>
    /// Connects to Redis. Returns once connected, or after the connect timeout with the connection still being tried in
    /// the background (logged as a warning): a node starts while Redis is down and catches up when it comes.
    /// </summary>
    public static async Task<RedisEngine> ConnectAsync(RedisEngineOptions options, ILogger logger, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        options.Validate();
        var nodeId = $"{ClientName(options.NodeName ?? Environment.MachineName)}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
        var configuration = new ConfigurationOptions
        {
            AbortOnConnectFail = false, // keep trying in the background, and reconnect after any loss
            BacklogPolicy = BacklogPolicy.FailFast, // while disconnected, fail at once instead of queueing until the timeout
            ReconnectRetryPolicy = new ExponentialRetry(250, 5_000),
            ConnectTimeout = (int)options.ConnectTimeout.TotalMilliseconds,
            AsyncTimeout = (int)options.CommandTimeout.TotalMilliseconds,
            SyncTimeout = (int)options.CommandTimeout.TotalMilliseconds,
            User = options.User,
            Password = options.Password,
            Ssl = options.Tls,
            DefaultDatabase = options.Database,
            ClientName = nodeId,
        };
        foreach (var address in options.Addresses)
        {
            configuration.EndPoints.Add(address);
        }
        var connection = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        var servers = string.Join(", ", options.Addresses);
        if (connection.IsConnected)
        {
            RedisEngineLog.Connected(logger, servers, nodeId, options.KeyPrefix);
        }
        else
        {
            RedisEngineLog.NotConnected(logger, servers, connection.GetStatus().Trim());
        }
        return new RedisEngine(connection, options, nodeId, logger, time ?? TimeProvider.System);
    }

    /// <summary>Sets the connection count this node reports in the registry at its next heartbeat.</summary>
    public void ReportConnections(int count) => _registry.Connections = count;

    /// <summary>Reads this node's connection count from <paramref name="source"/> at every heartbeat.</summary>
    public void CountConnectionsWith(Func<int> source) => _registry.CountSource = source;

    /// <summary>The live nodes of this cluster (same key prefix), ordered by id.</summary>
    public Task<IReadOnlyList<RedisNodeInfo>> GetNodesAsync(CancellationToken cancellation = default) => _registry.ListAsync(cancellation);

    /// <summary>Stops both heartbeats and leaves every key as it is, as a crash would (tests).</summary>
    internal async Task StopHeartbeatsAsync()
    {
        await _presence.StopHeartbeatAsync().ConfigureAwait(false);
        await _registry.StopAsync().ConfigureAwait(false);
    }

    /// <summary>Leaves the registry and presence (other nodes remove this node's remaining entries) and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _presence.DisposeAsync().ConfigureAwait(false);
        await _registry.DisposeAsync().ConfigureAwait(false);
        RedisEngineLog.Left(_logger, NodeId);
        _broker.Detach();
        _connection.ConnectionFailed -= OnConnectionFailed;
        _connection.ConnectionRestored -= OnConnectionRestored;
        await _connection.CloseAsync(allowCommandsToComplete: true).ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Interactive)
        {
            RedisEngineLog.ConnectionLost(_logger, e.EndPoint?.ToString() ?? "?", e.FailureType.ToString(), e.Exception?.Message ?? "");
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Interactive)
        {
            _presence.ConnectionRestored();
            RedisEngineLog.ConnectionRestored(_logger, e.EndPoint?.ToString() ?? "?");
        }
    }

    /// <summary>Redis client names may not contain spaces; keep what identifies the machine.</summary>
    private static string ClientName(string name)
    {
        var clean = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            clean.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-');
        }
        return clean.Length == 0 ? "node" : clean.ToString();
    }
}
