namespace Herald.Testing;

/// <summary>
/// One real <c>redis-server</c> for a collection of tests, started before the first and killed after the last; each
/// test keeps to a key prefix of its own, so tests never see each other's keys. A test project derives its collection
/// fixture from this with the engine options it needs.
/// </summary>
public abstract class RedisServerFixture : IAsyncLifetime
{
    private RedisServer? _server;

    public RedisServer Server => _server ?? throw new InvalidOperationException("the Redis server has not started");

    public async Task InitializeAsync() => _server = await RedisServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
