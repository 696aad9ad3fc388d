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
}
