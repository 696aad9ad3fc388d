using Herald.Core.Engine;
using Herald.Sqlite;

namespace Herald.Engine.Contracts.Engine;

public sealed class SqliteHistoryStoreTests : HistoryStoreContract, IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly CapturedLogs _logs = new();
    private SqliteStore? _store;

    protected override IHistoryStore CreateStore(TimeProvider time) => (_store = SqliteStore.Open(_directory.Path, _logs, time)).History;

    public void Dispose()
    {
        _store?.Dispose();
        _directory.Dispose();
        Assert.Empty(_logs.Errors);
    }
}
