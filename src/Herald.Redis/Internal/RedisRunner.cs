using StackExchange.Redis;

namespace Herald.Redis.Internal;

/// <summary>
/// Runs the engine's scripts on one database: one round trip per call, never blocking a thread, and every Redis
/// failure surfaced as <see cref="Core.Engine.StoreUnavailableException"/>. Cancellation is honoured until the command
/// is sent; once sent it completes (Redis has no way to take it back).
/// </summary>
internal sealed class RedisRunner(IConnectionMultiplexer connection, int database, string servers)
{
    public IConnectionMultiplexer Connection => connection;

    public IDatabase Database { get; } = connection.GetDatabase(database);

    /// <summary>The servers as the operator configured them, for messages.</summary>
    public string Servers => servers;

    public async Task<RedisResult> EvaluateAsync(string script, RedisKey[] keys, RedisValue[] args, string operation, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        try
        {
            return await Database.ScriptEvaluateAsync(script, keys, args).ConfigureAwait(false);
        }
        catch (Exception error) when (RedisErrors.IsUnavailable(error))
        {
            throw RedisErrors.Unavailable(error, operation, servers);
        }
    }

    /// <summary>Sends <paramref name="script"/> without waiting for, or hearing of, its result.</summary>
    public void Send(string script, RedisKey[] keys, RedisValue[] args)
    {
        try
        {
            _ = Database.ScriptEvaluateAsync(script, keys, args, CommandFlags.FireAndForget);
        }
        catch (Exception error) when (RedisErrors.IsUnavailable(error))
        {
            // Fire and forget: a lost update of the presence index only delays the removal of a dead node's entries to a read.
        }
    }

    public async Task RunAsync(Func<IDatabase, Task> command, string operation, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        try
        {
            await command(Database).ConfigureAwait(false);
        }
        catch (Exception error) when (RedisErrors.IsUnavailable(error))
        {
            throw RedisErrors.Unavailable(error, operation, servers);
        }
    }
}
