using Herald.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Herald.Server.Tests.Recovery;

/// <summary>The recovery property on the in-memory engine.</summary>
public sealed class MemoryRecoveryPropertyTests(ITestOutputHelper output) : RecoveryPropertyTests(output)
{
    protected override async Task<IReadOnlyList<TestServer>> StartNodesAsync() => [await TestServer.StartAsync(Configure)];
}
