using Herald.Engine.Contracts.Infrastructure;
using Herald.Core.Engine;

namespace Herald.Engine.Contracts.Engine;

public sealed class SqliteHistoryStoreTests : HistoryStoreContract, IDisposable
{
    private readonly SqliteStoreOnDisk _sqlite = new();

    protected override IHistoryStore CreateStore(TimeProvider time) => _sqlite.Open(time).History;

    public void Dispose() => _sqlite.Dispose();
}
