using Herald.Sqlite;

namespace Herald.Engine.Contracts.Infrastructure;

/// <summary>
/// A SQLite store in a temporary folder for one test, opened on first use with the test's clock: disposing it closes the
/// store, deletes the folder and fails the test if the store logged an error.
/// </summary>
public sealed class SqliteStoreOnDisk : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly CapturedLogs _logs = new();
    private SqliteStore? _store;

    /// <summary>The store, opened with <paramref name="time"/> the first time it is asked for.</summary>
    public SqliteStore Open(TimeProvider? time = null) => _store ??= SqliteStore.Open(_directory.Path, _logs, time ?? TimeProvider.System);

    public void Dispose()
    {
        _store?.Dispose();
        _directory.Dispose();
        Assert.Empty(_logs.Errors);
    }
}
