using Herald.Core.Engine;
using StackExchange.Redis;

namespace Herald.Redis.Internal;

/// <summary>Turns Redis failures into <see cref="StoreUnavailableException"/> with a message an operator can act on.</summary>
internal static class RedisErrors
{
    /// <summary>Whether <paramref name="error"/> means Redis cannot serve now (as opposed to a bug in the caller).</summary>
    public static bool IsUnavailable(Exception error) =>
        error is RedisConnectionException or RedisTimeoutException or RedisServerException or ObjectDisposedException;

    public static StoreUnavailableException Unavailable(Exception error, string operation, string servers) =>
        new($"Redis {operation} failed: {Describe(error, servers)}", error);

    public static string Describe(Exception error, string servers) => error switch
    {
        RedisConnectionException => $"no connection to Redis {servers} ({error.Message}); check that Redis runs there and the " +
            "address, password and TLS settings. The engine reconnects by itself",
        RedisTimeoutException => $"Redis {servers} did not answer within the command timeout; it may be overloaded or unreachable",
        RedisServerException when error.Message.StartsWith("OOM", StringComparison.Ordinal) =>
            $"Redis {servers} is out of memory ({error.Message}): raise maxmemory or shorten the history and inbox retention",
        RedisServerException when error.Message.StartsWith("NOPERM", StringComparison.Ordinal) =>
            $"the Redis user may not run this ({error.Message}): grant it the engine's key prefix and the EVAL/EVALSHA commands",
        RedisServerException => $"Redis {servers} refused the command: {error.Message}",
        ObjectDisposedException => "the Redis engine is closed (the server is shutting down)",
        _ => error.Message,
    };
}
