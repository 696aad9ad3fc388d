using Herald.Core.Engine;
using Herald.Redis.Internal;
using StackExchange.Redis;

namespace Herald.Redis;

/// <summary>
/// Idempotency keys in Redis (<c>P:idem:{key}</c>, a string that expires with the window): empty while the publish
/// that claimed it runs, then its result. Claiming is <c>SET NX</c>, so exactly one node publishes.
/// </summary>
internal sealed class RedisIdempotencyStore(RedisRunner redis, RedisKeys keys) : IIdempotencyStore
{
    /// <summary>KEYS: the key. Deletes it only while it is still a claim (empty), never a stored result.</summary>
    private const string Release = """
        if redis.call('GET', KEYS[1]) == '' then return redis.call('DEL', KEYS[1]) end
        return 0
        """;

    public async ValueTask<bool> TryClaimAsync(string key, TimeSpan window, CancellationToken cancellation = default)
    {
        var claimed = false;
        await redis.RunAsync(async database => claimed = await database.StringSetAsync(keys.Idempotency(key), "", Expiry(window), When.NotExists).ConfigureAwait(false),
            "idempotency claim", cancellation).ConfigureAwait(false);
        return claimed;
    }

    public ValueTask CompleteAsync(string key, byte[] result, TimeSpan window, CancellationToken cancellation = default) =>
        new(redis.RunAsync(database => database.StringSetAsync(keys.Idempotency(key), result, Expiry(window), When.Exists), "idempotency result", cancellation));

    public async ValueTask<byte[]?> GetResultAsync(string key, CancellationToken cancellation = default)
    {
        RedisValue value = default;
        await redis.RunAsync(async database => value = await database.StringGetAsync(keys.Idempotency(key)).ConfigureAwait(false), "idempotency read", cancellation).ConfigureAwait(false);
        return value.IsNullOrEmpty ? null : (byte[])value!;
    }

    public ValueTask ReleaseAsync(string key, CancellationToken cancellation = default) =>
        new(redis.EvaluateAsync(Release, [keys.Idempotency(key)], [], "idempotency release", cancellation));

    private static TimeSpan Expiry(TimeSpan window) => window > TimeSpan.Zero ? window : TimeSpan.FromMilliseconds(1);
}
