using Herald.Core.Engine;

namespace Herald.Engine.Contracts.Engine;

public sealed class MemoryInboxStoreTests : InboxStoreContract
{
    protected override IInboxStore CreateStore(TimeProvider time) => new MemoryInboxStore(time);
}
