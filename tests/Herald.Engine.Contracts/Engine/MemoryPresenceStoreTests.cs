using Herald.Core.Engine;

namespace Herald.Engine.Contracts.Engine;

public sealed class MemoryPresenceStoreTests : PresenceStoreContract
{
    protected override IPresenceStore CreateStore() => new MemoryPresenceStore();
}
