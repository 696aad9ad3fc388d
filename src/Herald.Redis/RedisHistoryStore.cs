using Herald.Core.Engine;
using Herald.Redis.Internal;
using StackExchange.Redis;
using StreamPosition = Herald.Core.Engine.StreamPosition;

namespace Herald.Redis;

/// <summary>
/// Channel history in Redis, shared by every node: per channel a meta hash (offset, epoch) and a stream of entries
/// (see <see cref="RedisKeys"/>). An append is one Lua script that assigns the offset, appends and trims, so offsets
/// are gapless across nodes; appends of one channel complete on this node in offset order. Reading the position of a
/// channel never published to writes offset 0 with a new epoch (expiring like any position), so the first publication,
/// from whichever node, keeps that epoch and an early subscriber recovers from it. Entries expire with the retention
/// TTL after the last publication and the position after <see cref="RedisEngineOptions.PositionTtl"/>, so idle channels
/// vanish; a position lost that way (or with Redis's data) comes back with a new epoch.
/// </summary>
internal sealed class RedisHistoryStore(RedisRunner redis, RedisKeys keys, TimeProvider time, TimeSpan positionTtl) : IHistoryStore
{
    private readonly AppendOrder _order = new();

    /// <inheritdoc />
    public ValueTask<StreamPosition> AppendAsync(string channel, byte[] data, RetentionLimits limits, string? eventName = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(data);
        var ttl = Retention.Milliseconds(limits.Ttl);
        RedisValue[] args = [data, time.GetUtcNow().ToUnixTimeMilliseconds(), Retention.Size(limits), ttl, Epochs.New(), Retention.PositionMilliseconds(ttl, positionTtl),
            eventName ?? ""];
        RedisKey[] streamKeys = [keys.HistoryMeta(channel), keys.HistoryEntries(channel)];
        return new(_order.SendAsync(channel, () => AppendAsync(streamKeys, args, cancellation)));
    }

    private async Task<StreamPosition> AppendAsync(RedisKey[] streamKeys, RedisValue[] args, CancellationToken cancellation)
    {
        var result = (RedisResult[])(await redis.EvaluateAsync(StreamScripts.HistoryAppend, streamKeys, args, "history append", cancellation).ConfigureAwait(false))!;
        return new StreamPosition((ulong)(long)result[0], (string)result[1]!);
    }

    /// <inheritdoc />
    public async ValueTask<HistoryPage> ReadAsync(string channel, ulong sinceOffset, int limit, bool newestFirst, CancellationToken cancellation = default)
    {
        var result = await ReadAsync(channel, Retention.Offset(sinceOffset), Math.Max(0, limit), newestFirst, cancellation).ConfigureAwait(false);
        return new HistoryPage(Position(result), StoredEntries.Read(result, 3), (ulong)(long)result[2]);
    }

    /// <inheritdoc />
    public async ValueTask<StreamPosition> GetPositionAsync(string channel, CancellationToken cancellation = default) =>
        Position(await ReadAsync(channel, 0, 0, newestFirst: false, cancellation).ConfigureAwait(false));

    /// <inheritdoc />
    public ValueTask RemoveAsync(string channel, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        RedisKey[] streamKeys = [keys.HistoryMeta(channel), keys.HistoryEntries(channel)];
        return new(redis.RunAsync(database => database.KeyDeleteAsync(streamKeys), "history remove", cancellation));
    }

    private async Task<RedisResult[]> ReadAsync(string channel, long since, int limit, bool newestFirst, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(channel);
        RedisValue[] args = [since, limit, newestFirst ? 1 : 0, time.GetUtcNow().ToUnixTimeMilliseconds(), Epochs.New(), Retention.Keep(positionTtl)];
        RedisKey[] streamKeys = [keys.HistoryMeta(channel), keys.HistoryEntries(channel)];
        return (RedisResult[])(await redis.EvaluateAsync(StreamScripts.HistoryRead, streamKeys, args, "history read", cancellation).ConfigureAwait(false))!;
    }

    private static StreamPosition Position(RedisResult[] result) => new((ulong)(long)result[0], (string)result[1]!);
}
