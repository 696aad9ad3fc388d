using Herald.Redis;

namespace Herald.Engine.Contracts.Infrastructure;

/// <summary>The tests that need Redis share one server; each test still gets its own key prefix.</summary>
[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisEngineFixture>
{
    public const string Name = "Redis";
}

/// <summary>One <c>redis-server</c> for the collection, and engines (nodes) on it under fresh key prefixes.</summary>
public sealed class RedisEngineFixture : RedisServerFixture
{
    /// <summary>
    /// How long a test node's heartbeat lasts unless a test asks for <see cref="ShortExpiry"/>: long enough that a busy
    /// machine delaying a healthy node's heartbeat (every 100 ms) does not make the others take it for dead.
    /// </summary>
    public static readonly TimeSpan DefaultExpiry = TimeSpan.FromSeconds(5);

    /// <summary>For a node that a test lets die: its entries must go quickly.</summary>
    public static readonly TimeSpan ShortExpiry = TimeSpan.FromMilliseconds(500);

    /// <summary>Options for an engine on <paramref name="server"/> (default: the shared one) under a fresh key prefix.</summary>
    public RedisEngineOptions Options(string? prefix = null, string? nodeName = null, RedisServer? server = null, TimeSpan? nodeExpiry = null) => new()
    {
        Addresses = [(server ?? Server).Address],
        KeyPrefix = prefix ?? NewPrefix(),
        NodeName = nodeName ?? "test",
        HeartbeatInterval = TimeSpan.FromMilliseconds(100),
        NodeExpiry = nodeExpiry ?? DefaultExpiry,
        ConnectTimeout = TimeSpan.FromSeconds(2),
        CommandTimeout = TimeSpan.FromSeconds(2),
    };

    /// <summary>Connects an engine (a node) under a fresh key prefix unless one is given.</summary>
    public Task<RedisEngine> ConnectAsync(CapturedLogs logger, TimeProvider? time = null, string? prefix = null, string? nodeName = null, TimeSpan? nodeExpiry = null) =>
        RedisEngine.ConnectAsync(Options(prefix, nodeName, nodeExpiry: nodeExpiry), logger, time).DefaultTimeout();

    public static string NewPrefix() => "test-" + Guid.NewGuid().ToString("N");
}
