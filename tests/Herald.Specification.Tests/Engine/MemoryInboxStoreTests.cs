using Herald.Core.Engine;

namespace Herald.Specification.Tests.Engine;

public sealed class MemoryInboxStoreTests : InboxStoreContract
{
    protected override IInboxStore CreateStore(TimeProvider time) => new MemoryInboxStore(time);
}
