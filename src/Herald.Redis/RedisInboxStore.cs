using Herald.Core.Engine;
using Herald.Redis.Internal;
using StackExchange.Redis;

namespace Herald.Redis;

/// <summary>
/// User inboxes in Redis, shared by every node: per user a meta hash (offset, acknowledged offset) and a stream of
/// entries (see <see cref="RedisKeys"/>); every operation is one Lua script on the user's slot, so offsets are gapless
/// across nodes and the acknowledged offset only grows, capped at the newest. Acknowledging or deleting in an inbox that
/// never held anything writes nothing. Entries expire with the retention TTL after the last append, the offsets after
/// <see cref="RedisEngineOptions.PositionTtl"/>.
/// </summary>
internal sealed class RedisInboxStore(RedisRunner redis, RedisKeys keys, TimeProvider time, TimeSpan positionTtl) : IInboxStore
{
    /// <inheritdoc />
    public async ValueTask<ulong> AppendAsync(string user, byte[] data, RetentionLimits limits, string? eventName = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var ttl = Retention.Milliseconds(limits.Ttl);
        RedisValue[] args = [data, time.GetUtcNow().ToUnixTimeMilliseconds(), Retention.Size(limits), ttl, Retention.PositionMilliseconds(ttl, positionTtl), eventName ?? ""];
        var offset = await redis.EvaluateAsync(StreamScripts.InboxAppend, Keys(user), args, "inbox append", cancellation).ConfigureAwait(false);
        return (ulong)(long)offset;
    }

    /// <inheritdoc />
    public async ValueTask<InboxPage> ReadAsync(string user, ulong? sinceOffset, int limit, CancellationToken cancellation = default)
    {
        RedisValue[] args = [sinceOffset is { } since ? Retention.Offset(since) : -1, Math.Max(0, limit), time.GetUtcNow().ToUnixTimeMilliseconds()];
        var result = (RedisResult[])(await redis.EvaluateAsync(StreamScripts.InboxRead, Keys(user), args, "inbox read", cancellation).ConfigureAwait(false))!;
        return new InboxPage((ulong)(long)result[0], (ulong)(long)result[1], StoredEntries.Read(result, 2));
    }

    /// <inheritdoc />
    public async ValueTask<ulong> AckAsync(string user, ulong offset, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        var acked = await redis.EvaluateAsync(StreamScripts.InboxAck, [keys.InboxMeta(user)], [Retention.Offset(offset)], "inbox acknowledge", cancellation).ConfigureAwait(false);
        return (ulong)(long)acked;
    }

    /// <inheritdoc />
    public async ValueTask DeleteAsync(string user, ulong? upToOffset, CancellationToken cancellation = default)
    {
        RedisValue[] args = [upToOffset is { } upTo ? Retention.Offset(upTo) : -1];
        await redis.EvaluateAsync(StreamScripts.InboxDelete, Keys(user), args, "inbox delete", cancellation).ConfigureAwait(false);
    }

    private RedisKey[] Keys(string user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return [keys.InboxMeta(user), keys.InboxEntries(user)];
    }
}
