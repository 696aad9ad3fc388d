using Herald.Core.Engine;

namespace Herald.Engine.Contracts.Engine;

public sealed class MemoryHistoryStoreTests : HistoryStoreContract
{
    protected override IHistoryStore CreateStore(TimeProvider time) => new MemoryHistoryStore(time);
}
