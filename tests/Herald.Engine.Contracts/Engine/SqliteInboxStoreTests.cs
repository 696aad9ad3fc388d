using Herald.Engine.Contracts.Infrastructure;
using Herald.Core.Engine;

namespace Herald.Engine.Contracts.Engine;

public sealed class SqliteInboxStoreTests : InboxStoreContract, IDisposable
{
    private readonly SqliteStoreOnDisk _sqlite = new();

    protected override IInboxStore CreateStore(TimeProvider time) => _sqlite.Open(time).Inbox;

    public void Dispose() => _sqlite.Dispose();
}
