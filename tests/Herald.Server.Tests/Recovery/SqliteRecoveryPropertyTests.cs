using Herald.Server.Tests.Infrastructure;
using Herald.Server.Tests.Process;
using Xunit.Abstractions;

namespace Herald.Server.Tests.Recovery;

/// <summary>The recovery property on the SQLite engine (a database of its own).</summary>
public sealed class SqliteRecoveryPropertyTests(ITestOutputHelper output) : RecoveryPropertyTests(output), IDisposable
{
    private readonly TempDirectory _directory = new();

    protected override async Task<IReadOnlyList<TestServer>> StartNodesAsync() =>
        [await TestServer.StartAsync(o => Configure(o) with { DataDirectory = _directory.Path })];

    public void Dispose() => _directory.Dispose();
}
