using Herald.Core.Engine;

namespace Herald.Specification.Tests.Engine;

public sealed class MemoryPresenceStoreTests : PresenceStoreContract
{
    protected override IPresenceStore CreateStore() => new MemoryPresenceStore();
}
