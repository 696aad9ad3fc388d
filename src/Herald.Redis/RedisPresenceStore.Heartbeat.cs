using System.Collections.Concurrent;
using Herald.Core.Engine;
using Herald.Redis.Internal;
using StackExchange.Redis;

namespace Herald.Redis;

/// <summary>
/// How the entries of a dead node go away. Every interval this node renews its heartbeat key (expiring after the
/// expiry) and, in the same script, learns which nodes with presence are alive and claims the clean-up of those whose
/// heartbeat expired; it then removes each claimed node's entries channel by channel, using that node's presence index
/// (channel → count, kept by the node as it adds and removes), pipelined. Reads check the nodes present in the channel
/// they read against the last heartbeat's answer, ask Redis about any node not in it, and remove a dead node's entries
/// before answering, which also covers an entry the index missed. A node never writes an entry while its own heartbeat
/// may have lapsed: it renews the heartbeat first.
/// </summary>
internal sealed partial class RedisPresenceStore
{
    private const int SweepBatch = 256;

    /// <summary>No heartbeat known to be fresh (none yet, or the connection was lost since).</summary>
    private const long NoHeartbeat = long.MinValue;

    private readonly Task _heartbeats;
    private readonly CancellationTokenSource _stopping = new();
    /// <summary>Nodes found alive by a read, with when (a <see cref="TimeProvider"/> timestamp).</summary>
    private readonly ConcurrentDictionary<string, long> _confirmedAlive = new(StringComparer.Ordinal);
    private LiveNodes? _live;
    private long _heartbeatStarted = NoHeartbeat;
    private bool _hadHeartbeat;
    private bool _heartbeatFailing;
    private int _disposed;

    /// <summary>The nodes alive at the last heartbeat, which started at <paramref name="At"/> (a <see cref="TimeProvider"/> timestamp).</summary>
    private sealed record LiveNodes(HashSet<string> Nodes, long At);

    /// <summary>Forget that the heartbeat is fresh (the connection was lost: Redis may have restarted without data).</summary>
    internal void ConnectionRestored() => Volatile.Write(ref _heartbeatStarted, NoHeartbeat);

    /// <summary>Stops renewing the heartbeat and leaves the entries as they are, as a crash would (tests).</summary>
    internal async Task StopHeartbeatAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _heartbeats.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Stops the heartbeat and deletes it, so the other nodes remove whatever entries this node left at their next heartbeat.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await StopHeartbeatAsync().ConfigureAwait(false);
        try
        {
            await _redis.RunAsync(database => database.KeyDeleteAsync(_keys.NodeAlive(_node)), "presence leave", CancellationToken.None).ConfigureAwait(false);
        }
        catch (StoreUnavailableException)
        {
            // The heartbeat expires by itself; the entries go then.
        }
        _stopping.Dispose();
    }

    private ValueTask EnsureHeartbeatAsync(CancellationToken cancellation) =>
        HeartbeatIsFresh() ? ValueTask.CompletedTask : new(BeatAsync(claim: false, cancellation));

    /// <summary>
    /// True while entries may be written without renewing first: until one interval before the last heartbeat (timed
    /// from when it was sent) could lapse. The loop renews it well before.
    /// </summary>
    private bool HeartbeatIsFresh()
    {
        var started = Volatile.Read(ref _heartbeatStarted);
        return started != NoHeartbeat && _time.GetElapsedTime(started) < _expiry - _interval;
    }

    private async Task RunHeartbeatsAsync()
    {
        using var timer = new PeriodicTimer(_interval);
        do
        {
            try
            {
                var claimed = await BeatAsync(claim: true, _stopping.Token).ConfigureAwait(false);
                if (_heartbeatFailing)
                {
                    _heartbeatFailing = false;
                    RedisEngineLog.HeartbeatRecovered(_logger, "presence heartbeat", _node);
                }
                foreach (var dead in claimed)
                {
                    await SweepAsync(dead).ConfigureAwait(false);
                }
            }
            catch (StoreUnavailableException error)
            {
                if (!_heartbeatFailing)
                {
                    _heartbeatFailing = true;
                    RedisEngineLog.HeartbeatFailed(_logger, "presence heartbeat", _node, _interval, error.Message);
                }
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
        }
        while (await WaitAsync(timer).ConfigureAwait(false));
    }

    private async Task<bool> WaitAsync(PeriodicTimer timer)
    {
        try
        {
            return await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Renews this node's heartbeat; with <paramref name="claim"/>, returns the dead nodes this node must clean up.</summary>
    private async Task<string[]> BeatAsync(bool claim, CancellationToken cancellation)
    {
        var started = _time.GetTimestamp();
        var expiry = (long)_expiry.TotalMilliseconds;
        RedisValue[] args = [_node, expiry, _keys.NodeAlivePrefix, _keys.NodeSweepPrefix, claim ? 1 : 0, expiry];
        var result = (RedisResult[])(await _redis.EvaluateAsync(NodeScripts.Heartbeat, [_keys.NodeAlive(_node), _keys.PresenceNodeSet], args,
            "presence heartbeat", cancellation).ConfigureAwait(false))!;
        Volatile.Write(ref _heartbeatStarted, started);
        if ((long)result[0] == 0 && _hadHeartbeat)
        {
            RedisEngineLog.HeartbeatHadExpired(_logger, _node);
            // Other nodes may be removing this node's entries as a dead node's: write them again now, and once more when
            // any clean-up claimed meanwhile has surely run or lapsed.
            _ = RewriteAfterAsync(TimeSpan.Zero);
            _ = RewriteAfterAsync(_expiry + _interval);
        }
        _hadHeartbeat = true;
        _live = new LiveNodes([.. (string[])result[1]!], started);
        return (string[])result[2]!;
    }

    private async Task RewriteAfterAsync(TimeSpan delay)
    {
        try
        {
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, _stopping.Token).ConfigureAwait(false);
            }
            var rewritten = await RewriteAllAsync().ConfigureAwait(false);
            RedisEngineLog.PresenceRewritten(_logger, _node, rewritten, _mine.Count);
        }
        catch (Exception error) when (error is StoreUnavailableException or OperationCanceledException || RedisErrors.IsUnavailable(error))
        {
            // Stopping, or Redis is gone again: the next lapse found by a heartbeat starts over.
        }
    }

    /// <summary>Removes every entry of <paramref name="dead"/>, channel by channel from its index, then forgets the node.</summary>
    private async Task SweepAsync(string dead)
    {
        var members = 0;
        var channels = 0;
        try
        {
            var batch = new List<Task<RedisResult>>(SweepBatch);
            await foreach (var entry in _redis.Database.HashScanAsync(_keys.NodePresenceIndex(dead), pageSize: SweepBatch).ConfigureAwait(false))
            {
                string channel = entry.Name!;
                channels++;
                batch.Add(_redis.EvaluateAsync(PresenceScripts.Purge, ChangeKeys(channel), [_keys.PresenceNodeMembersPrefix(channel), dead],
                    "presence sweep", CancellationToken.None));
                if (batch.Count == SweepBatch)
                {
                    members += await CountAsync(batch).ConfigureAwait(false);
                }
            }
            members += await CountAsync(batch).ConfigureAwait(false);
            RedisValue[] args = [dead, _keys.NodeAlivePrefix, _keys.NodePresenceIndexPrefix, _keys.NodeSweepPrefix];
            await _redis.EvaluateAsync(NodeScripts.SweepDone, [_keys.PresenceNodeSet], args, "presence sweep", CancellationToken.None).ConfigureAwait(false);
            RedisEngineLog.SweptNode(_logger, members, dead, channels);
        }
        catch (Exception error) when (error is StoreUnavailableException || RedisErrors.IsUnavailable(error))
        {
            // The claim expires, and this node or another tries again.
            RedisEngineLog.SweepFailed(_logger, dead, error.Message);
        }

        static async Task<int> CountAsync(List<Task<RedisResult>> batch)
        {
            var removed = 0;
            foreach (var purge in await Task.WhenAll(batch).ConfigureAwait(false))
            {
                removed += (int)(long)purge;
            }
            batch.Clear();
            return removed;
        }
    }

    /// <summary>
    /// Removes from <paramref name="channel"/> the entries of the nodes listed in <paramref name="result"/> (from
    /// <paramref name="start"/>, <paramref name="count"/> of them) whose heartbeat expired; true when it removed any.
    /// </summary>
    private async Task<bool> PurgeDeadNodesAsync(string channel, RedisResult[] result, int start, int count, CancellationToken cancellation)
    {
        List<RedisValue>? unknown = null;
        var now = _time.GetTimestamp();
        var live = _live;
        var liveIsFresh = live is not null && _time.GetElapsedTime(live.At, now) < 2 * _interval;
        for (var i = start; i < start + count; i++)
        {
            var node = (string)result[i]!;
            if (node == _node || (liveIsFresh && live!.Nodes.Contains(node)) ||
                (_confirmedAlive.TryGetValue(node, out var confirmed) && _time.GetElapsedTime(confirmed, now) < _interval))
            {
                continue;
            }
            (unknown ??= [_keys.NodeAlivePrefix]).Add(node);
        }
        if (unknown is null)
        {
            return false;
        }
        var dead = (string[])(await _redis.EvaluateAsync(NodeScripts.Dead, [_keys.PresenceNodeSet], [.. unknown], "presence read", cancellation).ConfigureAwait(false))!;
        foreach (var node in unknown.Skip(1))
        {
            if (!dead.Contains((string)node!))
            {
                _confirmedAlive[(string)node!] = now;
            }
        }
        if (dead.Length == 0)
        {
            return false;
        }
        var removed = await _redis.EvaluateAsync(PresenceScripts.Purge, ChangeKeys(channel), [_keys.PresenceNodeMembersPrefix(channel), .. dead.Select(d => (RedisValue)d)],
            "presence read", cancellation).ConfigureAwait(false);
        RedisEngineLog.PurgedOnRead(_logger, (int)(long)removed, string.Join(", ", dead), channel);
        return true;
    }
}
