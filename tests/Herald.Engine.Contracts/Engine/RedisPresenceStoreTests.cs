using Herald.Core.Engine;
using Herald.Redis;
using Herald.Engine.Contracts.Infrastructure;

namespace Herald.Engine.Contracts.Engine;

[Collection(RedisCollection.Name)]
public sealed class RedisPresenceStoreTests(RedisEngineFixture redis) : PresenceStoreContract, IAsyncLifetime
{
    private readonly CapturedLogs _logs = new();
    private RedisEngine? _engine;

    protected override IPresenceStore CreateStore() => _engine!.Presence;

    public async Task InitializeAsync() => _engine = await redis.ConnectAsync(_logs);

    public async Task DisposeAsync()
    {
        await _engine!.DisposeAsync();
        Assert.Empty(_logs.Errors);
    }

    [Fact]
    public async Task Who_is_online_is_where_nodes_of_the_previous_build_keep_it()
    {
        // The previous build recorded who is online as the presence set " online"; a cluster upgraded node by node has
        // both builds at once, so each must count what the other wrote.
        const string previousBuildsSet = " online";
        await Store.AddAsync(previousBuildsSet, new PresenceEntry("old-node-c1", "alice", null)).AsTask().DefaultTimeout();
        await Store.AddOnlineAsync("new-node-c2", "bob").AsTask().DefaultTimeout();

        var (connections, total) = await Store.CountOnlineAsync(["alice", "bob"]).AsTask().DefaultTimeout();
        var seenByOld = await Store.GetUserConnectionsAsync(previousBuildsSet, ["alice", "bob"]).AsTask().DefaultTimeout();

        Assert.Equal([1, 1], connections);
        Assert.Equal(2, total);
        Assert.Equal([1, 1], seenByOld);
    }
}

