using Herald.Core.Engine;
using Herald.Redis;
using Herald.Engine.Contracts.Infrastructure;

namespace Herald.Engine.Contracts.Engine;

[Collection(RedisCollection.Name)]
public sealed class RedisHistoryStoreTests(RedisEngineFixture redis) : HistoryStoreContract, IAsyncLifetime
{
    private readonly CapturedLogs _logs = new();
    private RedisEngine? _engine;

    protected override IHistoryStore CreateStore(TimeProvider time) => _engine!.History;

    public async Task InitializeAsync() => _engine = await redis.ConnectAsync(_logs, Time);

    public async Task DisposeAsync()
    {
        await _engine!.DisposeAsync();
        Assert.Empty(_logs.Errors);
    }
}
