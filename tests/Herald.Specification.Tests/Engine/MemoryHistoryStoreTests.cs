using Herald.Core.Engine;

namespace Herald.Specification.Tests.Engine;

public sealed class MemoryHistoryStoreTests : HistoryStoreContract
{
    protected override IHistoryStore CreateStore(TimeProvider time) => new MemoryHistoryStore(time);
}
