using Herald.Server.Tests.Cluster;
using Herald.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Herald.Server.Tests.Recovery;

/// <summary>The recovery property on the Redis engine: two nodes, clients and publishes spread over both.</summary>
[Collection(RedisClusterCollection.Name)]
public sealed class RedisRecoveryPropertyTests(RedisClusterFixture fixture, ITestOutputHelper output) : RecoveryPropertyTests(output)
{
    protected override async Task<IReadOnlyList<TestServer>> StartNodesAsync()
    {
        var prefix = RedisClusterFixture.NewPrefix();
        return
        [
            await TestServer.StartAsync(o => Configure(o) with { Redis = RedisClusterFixture.Engine(fixture.Redis.Address, prefix) }),
            await TestServer.StartAsync(o => Configure(o) with { Redis = RedisClusterFixture.Engine(fixture.Redis.Address, prefix) }),
        ];
    }
}
