using System.Buffers;
using System.Text.Json;
using Herald.Core.Engine;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Herald.Redis.Internal;

/// <summary>
/// Keeps this node in the registry: every interval it writes its id, start time and connection count to a key that
/// expires after the node expiry, so a node that stops disappears from <see cref="ListAsync"/> by itself.
/// </summary>
internal sealed class NodeRegistry : IAsyncDisposable
{
    private readonly RedisRunner _redis;
    private readonly RedisKeys _keys;
    private readonly string _node;
    private readonly DateTimeOffset _startedAt;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _expiry;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private int _connections;
    private bool _failing;
    private int _disposed;

    public NodeRegistry(RedisRunner redis, RedisKeys keys, string node, DateTimeOffset startedAt, TimeSpan interval, TimeSpan expiry, ILogger logger)
    {
        _redis = redis;
        _keys = keys;
        _node = node;
        _startedAt = startedAt;
        _interval = interval;
        _expiry = expiry;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>The connection count written at the next heartbeat.</summary>
    public int Connections
    {
        get => CountSource?.Invoke() ?? Volatile.Read(ref _connections);
        set => Volatile.Write(ref _connections, value);
    }

    /// <summary>When set, read at each heartbeat instead of <see cref="Connections"/>'s stored value.</summary>
    public Func<int>? CountSource { get; set; }

    public Task RegisterAsync(CancellationToken cancellation)
    {
        RedisValue[] args = [_node, Entry(), (long)_expiry.TotalMilliseconds];
        return _redis.EvaluateAsync(NodeScripts.Register, [_keys.NodeInfo(_node), _keys.NodeRegistry], args, "node registration", cancellation);
    }

    /// <summary>The live nodes; drops the dead ones from the registry on the way.</summary>
    public async Task<IReadOnlyList<RedisNodeInfo>> ListAsync(CancellationToken cancellation)
    {
        var entries = (RedisResult[])(await _redis.EvaluateAsync(NodeScripts.Nodes, [_keys.NodeRegistry], [_keys.NodeInfoPrefix], "node list", cancellation).ConfigureAwait(false))!;
        var nodes = new List<RedisNodeInfo>(entries.Length);
        foreach (var entry in entries)
        {
            using var json = JsonDocument.Parse((byte[])entry!);
            var root = json.RootElement;
            nodes.Add(new RedisNodeInfo(
                root.GetProperty("id").GetString() ?? "",
                DateTimeOffset.FromUnixTimeMilliseconds(root.GetProperty("started").GetInt64()),
                root.GetProperty("connections").GetInt32()));
        }
        nodes.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        return nodes;
    }

    private byte[] Entry()
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id"u8, _node);
            writer.WriteNumber("started"u8, _startedAt.ToUnixTimeMilliseconds());
            writer.WriteNumber("connections"u8, Connections);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(_interval);
        try
        {
            do
            {
                try
                {
                    await RegisterAsync(_stopping.Token).ConfigureAwait(false);
                    if (_failing)
                    {
                        _failing = false;
                        RedisEngineLog.HeartbeatRecovered(_logger, "registry heartbeat", _node);
                    }
                }
                catch (StoreUnavailableException error) when (!_failing)
                {
                    _failing = true;
                    RedisEngineLog.HeartbeatFailed(_logger, "registry heartbeat", _node, _interval, error.Message);
                }
                catch (StoreUnavailableException)
                {
                }
            }
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>Stops the heartbeat and leaves the entry to expire, as a crash would (tests).</summary>
    public async Task StopAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Stops the heartbeat and leaves the registry at once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await StopAsync().ConfigureAwait(false);
        try
        {
            await _redis.EvaluateAsync(NodeScripts.Leave, [_keys.NodeInfo(_node), _keys.NodeRegistry], [_node], "node leave", CancellationToken.None).ConfigureAwait(false);
        }
        catch (StoreUnavailableException)
        {
            // The entry expires by itself.
        }
        _stopping.Dispose();
    }
}
