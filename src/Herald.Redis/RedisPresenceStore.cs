using Herald.Core.Engine;
using Herald.Redis.Internal;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Herald.Redis;

/// <summary>
/// Presence in Redis, shared by every node. Per channel a hash client → entry JSON, a sorted set of client ids for
/// paging, a count per user and per node, and per node the set of its clients (see <see cref="RedisKeys"/>); each change
/// is one Lua script on the channel's slot, so the counts always match the entries. Every entry names the node that
/// added it, and each node renews a heartbeat that expires after <c>expiry</c>: when a node stops without removing its
/// entries (a crash), another node notices at its next heartbeat and removes them, and a read that meets a node whose
/// heartbeat expired removes its entries before answering. So a dead node's entries are gone within expiry plus one
/// heartbeat interval (see RedisPresenceStore.Heartbeat.cs).
/// </summary>
internal sealed partial class RedisPresenceStore : IPresenceStore, IAsyncDisposable
{
    private readonly RedisRunner _redis;
    private readonly RedisKeys _keys;
    private readonly string _node;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _expiry;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    /// <summary>
    /// Every entry this node has in Redis now, by channel and client id: an add counts once Redis confirmed it, unless a
    /// remove of the same entry was called meanwhile (<see cref="_adding"/> holds the adds in flight, each with a token of
    /// its own). When this node's heartbeat is found to have lapsed (a long pause, Redis lost its data), other nodes may
    /// have removed its entries as those of a dead node: they are written again from here.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Channel, string ClientId), PresenceEntry> _mine = new();

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Channel, string ClientId), object> _adding = new();

    /// <summary>
    /// Presence as node <paramref name="nodeId"/>, renewing its heartbeat every <paramref name="heartbeatInterval"/>;
    /// how long a heartbeat stays fresh is measured with <paramref name="time"/>.
    /// </summary>
    public RedisPresenceStore(RedisRunner redis, RedisKeys keys, string nodeId, TimeSpan heartbeatInterval, TimeSpan expiry, ILogger logger, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrEmpty(nodeId);
        if (heartbeatInterval <= TimeSpan.Zero || expiry < 2 * heartbeatInterval)
        {
            throw new ArgumentException($"The presence expiry ({expiry}) must be at least twice the heartbeat interval ({heartbeatInterval})", nameof(expiry));
        }
        _redis = redis;
        _keys = keys;
        _node = nodeId;
        _interval = heartbeatInterval;
        _expiry = expiry;
        _logger = logger;
        _time = time;
        _heartbeats = Task.Run(RunHeartbeatsAsync);
    }

    /// <summary>The id this store writes into its entries.</summary>
    public string NodeId => _node;

    /// <inheritdoc />
    public async ValueTask<PresenceChange> AddAsync(string channel, PresenceEntry entry, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(entry);
        var key = (channel, entry.ClientId);
        var token = new object();
        _adding[key] = token;
        try
        {
            await EnsureHeartbeatAsync(cancellation).ConfigureAwait(false);
            var change = await WriteAsync(channel, entry, cancellation).ConfigureAwait(false);
            if (_adding.TryRemove(new KeyValuePair<(string, string), object>(key, token)))
            {
                _mine[key] = entry; // not removed meanwhile
            }
            return change;
        }
        catch
        {
            _adding.TryRemove(new KeyValuePair<(string, string), object>(key, token));
            throw;
        }
    }

    private async Task<PresenceChange> WriteAsync(string channel, PresenceEntry entry, CancellationToken cancellation)
    {
        RedisValue[] args = [entry.ClientId, entry.UserId, _node, PresenceEntryJson.Write(entry, _node), _keys.PresenceNodeMembersPrefix(channel)];
        var result = (RedisResult[])(await _redis.EvaluateAsync(PresenceScripts.Add, ChangeKeys(channel), args, "presence add", cancellation).ConfigureAwait(false))!;
        var added = (long)result[0] == 1;
        if (added)
        {
            _redis.Send(NodeScripts.IndexDelta, [_keys.NodePresenceIndex(_node)], [channel, 1]);
        }
        return new PresenceChange(added, (int)(long)result[1]);
    }

    /// <summary>Writes every entry of this node again (adding what is there already changes nothing); returns how many were missing.</summary>
    private async Task<int> RewriteAllAsync()
    {
        var writes = _mine.Select(m => WriteAsync(m.Key.Channel, m.Value, CancellationToken.None)).ToList();
        var changes = await Task.WhenAll(writes).ConfigureAwait(false);
        return changes.Count(c => c.Changed);
    }

    /// <inheritdoc />
    public async ValueTask<PresenceChange> RemoveAsync(string channel, string clientId, string userId, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(clientId);
        _adding.TryRemove((channel, clientId), out _);
        _mine.TryRemove((channel, clientId), out _);
        RedisValue[] args = [clientId, _keys.PresenceNodeMembersPrefix(channel)];
        var result = (RedisResult[])(await _redis.EvaluateAsync(PresenceScripts.Remove, ChangeKeys(channel), args, "presence remove", cancellation).ConfigureAwait(false))!;
        var removed = (long)result[0] == 1;
        if (removed)
        {
            _redis.Send(NodeScripts.IndexDelta, [_keys.NodePresenceIndex((string)result[2]!)], [channel, -1]);
        }
        return new PresenceChange(removed, (int)(long)result[1]);
    }

    /// <inheritdoc />
    public async ValueTask<PresencePage> GetAsync(string channel, string? cursor, int limit, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        RedisKey[] keys = [_keys.PresenceMembers(channel), _keys.PresenceOrder(channel), _keys.PresenceNodes(channel)];
        RedisValue[] args = [cursor ?? "", Math.Max(0, limit)];
        var result = (RedisResult[])(await _redis.EvaluateAsync(PresenceScripts.Page, keys, args, "presence read", cancellation).ConfigureAwait(false))!;
        if (await PurgeDeadNodesAsync(channel, result, 2, (int)(long)result[1], cancellation).ConfigureAwait(false))
        {
            result = (RedisResult[])(await _redis.EvaluateAsync(PresenceScripts.Page, keys, args, "presence read", cancellation).ConfigureAwait(false))!;
        }
        var members = new List<PresenceEntry>();
        for (var i = 2 + (int)(long)result[1]; i + 1 < result.Length; i += 2)
        {
            if (!result[i + 1].IsNull)
            {
                members.Add(PresenceEntryJson.Read((string)result[i]!, (byte[])result[i + 1]!));
            }
        }
        var more = (long)result[0] == 1 && members.Count > 0;
        return new PresencePage(members, more ? members[^1].ClientId : null);
    }

    /// <inheritdoc />
    public async ValueTask<PresenceStats> GetStatsAsync(string channel, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        RedisKey[] keys = [_keys.PresenceMembers(channel), _keys.PresenceUsers(channel), _keys.PresenceNodes(channel)];
        var result = (RedisResult[])(await _redis.EvaluateAsync(PresenceScripts.Stats, keys, [], "presence stats", cancellation).ConfigureAwait(false))!;
        if (await PurgeDeadNodesAsync(channel, result, 2, result.Length - 2, cancellation).ConfigureAwait(false))
        {
            result = (RedisResult[])(await _redis.EvaluateAsync(PresenceScripts.Stats, keys, [], "presence stats", cancellation).ConfigureAwait(false))!;
        }
        return new PresenceStats((int)(long)result[0], (int)(long)result[1]);
    }

    /// <inheritdoc />
    public async ValueTask<int[]> GetUserConnectionsAsync(string channel, IReadOnlyList<string> users, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(users);
        // Reading the stats first removes a dead node's entries (and so its users' counts) before they are counted.
        await GetStatsAsync(channel, cancellation).ConfigureAwait(false);
        if (users.Count == 0)
        {
            return [];
        }
        RedisValue[] fields = [.. users.Select(u => (RedisValue)u)];
        RedisValue[] values = [];
        await _redis.RunAsync(async database => values = await database.HashGetAsync(_keys.PresenceUsers(channel), fields).ConfigureAwait(false),
            "presence users", cancellation).ConfigureAwait(false);
        return [.. values.Select(v => v.IsNull ? 0 : (int)v)];
    }

    /// <summary>
    /// The presence set that records who is online. In Redis it is kept under the keys a presence set of this name
    /// has, so it shares the channels' scripts, heartbeat and dead-node expiry; no channel can have the name (channel
    /// names never contain a space). The keys are part of the data nodes share: nodes of the previous build wrote and
    /// read exactly these, so both agree while a cluster is upgraded node by node. It never changes.
    /// </summary>
    private const string OnlineSet = " online";

    /// <inheritdoc />
    public ValueTask<PresenceChange> AddOnlineAsync(string clientId, string userId, CancellationToken cancellation = default) =>
        AddAsync(OnlineSet, new PresenceEntry(clientId, userId, null), cancellation);

    /// <inheritdoc />
    public ValueTask<PresenceChange> RemoveOnlineAsync(string clientId, string userId, CancellationToken cancellation = default) =>
        RemoveAsync(OnlineSet, clientId, userId, cancellation);

    /// <inheritdoc />
    public async ValueTask<(int[] Connections, int TotalUsers)> CountOnlineAsync(IReadOnlyList<string> users, CancellationToken cancellation = default)
    {
        var connections = await GetUserConnectionsAsync(OnlineSet, users, cancellation).ConfigureAwait(false);
        var stats = await GetStatsAsync(OnlineSet, cancellation).ConfigureAwait(false);
        return (connections, stats.Users);
    }

    /// <summary>The keys the change scripts (add, remove, purge) take, in their order.</summary>
    private RedisKey[] ChangeKeys(string channel) =>
        [_keys.PresenceMembers(channel), _keys.PresenceOrder(channel), _keys.PresenceUsers(channel), _keys.PresenceNodes(channel)];
}
