using Herald.Core.Auth;
using Herald.Redis;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Cluster;

[CollectionDefinition(Name)]
public sealed class RedisClusterCollection : ICollectionFixture<RedisClusterFixture>
{
    public const string Name = "redis cluster";
}

/// <summary>
/// One real <c>redis-server</c> shared by the cluster tests; each test runs its nodes under a key prefix of its own, so
/// tests never see each other's keys or topics.
/// </summary>
public sealed class RedisClusterFixture : RedisServerFixture
{
    public const string Secret = "cluster-test-secret-0123456789-abcdef";

    /// <summary>The shared server, by the name the cluster tests give it.</summary>
    public RedisServer Redis => Server;

    public static string NewPrefix() => "t" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>Options of a node on <paramref name="address"/> under <paramref name="prefix"/>, with fast heartbeats.</summary>
    public static RedisEngineOptions Engine(string address, string prefix, bool sharded = false) => new()
    {
        Addresses = [address],
        KeyPrefix = prefix,
        // Fast heartbeats, but an expiry that a busy CI machine does not outrun (a node whose heartbeat lapses is taken
        // for dead until it writes its presence back). The node-death test kills a process that expires in 1 s.
        HeartbeatInterval = TimeSpan.FromMilliseconds(200),
        NodeExpiry = TimeSpan.FromSeconds(5),
        ConnectTimeout = TimeSpan.FromSeconds(2),
        CommandTimeout = TimeSpan.FromSeconds(2),
        ShardedPubSub = sharded,
    };

    /// <summary>Starts <paramref name="count"/> in-process nodes of one cluster on this fixture's Redis.</summary>
    public async Task<Nodes> StartNodesAsync(int count, string? prefix = null, bool sharded = false, Func<HeraldServerOptions, HeraldServerOptions>? configure = null)
    {
        prefix ??= NewPrefix();
        var nodes = new List<TestServer>();
        for (var i = 0; i < count; i++)
        {
            nodes.Add(await TestServer.StartAsync(o =>
            {
                o = o with { Redis = Engine(Redis.Address, prefix, sharded), Token = new TokenOptions { Secret = Secret } };
                return configure?.Invoke(o) ?? o;
            }));
        }
        return new Nodes(nodes, prefix);
    }

    public static string Token(string user, string[]? channels = null) => TokenIssuer.Create(Secret, user, TimeSpan.FromHours(1), channels: channels);
}

/// <summary>The nodes of one test's cluster, stopped together.</summary>
public sealed class Nodes(List<TestServer> servers, string prefix) : IAsyncDisposable
{
    public string Prefix => prefix;

    public TestServer this[int index] => servers[index];

    public int Count => servers.Count;

    public async ValueTask DisposeAsync()
    {
        foreach (var server in servers)
        {
            await server.DisposeAsync();
        }
    }
}
