using Herald.Core.Engine;
using Herald.Sqlite.Internal;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Herald.Sqlite;

/// <summary>
/// The embedded durable store: channel history and user inboxes in one SQLite database (<c>herald.db</c> in the data
/// directory), written by one group-committing writer thread and read on separate connections. One process at a time
/// may use a data directory.
/// </summary>
public sealed class SqliteStore : IAsyncDisposable, IDisposable
{
    /// <summary>The database's file name inside the data directory.</summary>
    public const string FileName = "herald.db";

    private const string LockFileName = "herald.lock";

    private readonly FileStream _lock;
    private readonly SqliteWriter _writer;
    private readonly SqliteReader _reader;
    private readonly ILogger _logger;
    private int _disposed;

    private SqliteStore(string path, FileStream lockFile, SqliteWriter writer, SqliteReader reader, ILogger logger, TimeProvider time)
    {
        DatabasePath = path;
        _lock = lockFile;
        _writer = writer;
        _reader = reader;
        _logger = logger;
        History = new SqliteHistoryStore(writer, reader, time);
        Inbox = new SqliteInboxStore(writer, reader, time);
    }

    /// <summary>Channel history kept in the database.</summary>
    public IHistoryStore History { get; }

    /// <summary>User inboxes kept in the database.</summary>
    public IInboxStore Inbox { get; }

    /// <summary>The full path of the database file.</summary>
    public string DatabasePath { get; }

    /// <summary>The writer, for tests (its transaction counter shows group commit at work).</summary>
    internal SqliteWriter Writer => _writer;

    /// <summary>
    /// Opens (creating when needed) the folder <paramref name="dataDirectory"/> and its database. Throws
    /// <see cref="SqliteStoreException"/>, whose message says what to change, when it cannot.
    /// </summary>
    public static SqliteStore Open(string dataDirectory, ILogger logger, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        ArgumentNullException.ThrowIfNull(logger);
        var directory = Path.GetFullPath(dataDirectory);
        var path = Path.Combine(directory, FileName);
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new SqliteStoreException($"Cannot create the data directory {directory}: {error.Message}. Create it writable for this user, " +
                "point data_dir (--data-dir) at a writable folder, or run with --memory", error);
        }
        var lockFile = LockDirectory(directory);
        SqliteConnection? connection = null;
        try
        {
            connection = SqliteSchema.Open(path, readOnly: false);
            SqliteSchema.Initialize(connection, path);
            var version = connection.ServerVersion;
            var store = new SqliteStore(path, lockFile, new SqliteWriter(connection, path, logger, time ?? TimeProvider.System), new SqliteReader(path), logger, time ?? TimeProvider.System);
            SqliteStoreLog.Opened(logger, path, version);
            return store;
        }
        catch (Exception error)
        {
            connection?.Dispose();
            lockFile.Dispose();
            if (error is SqliteException sqlite)
            {
                throw new SqliteStoreException($"Cannot open the database: {SqliteErrors.Describe(sqlite, path)}", sqlite);
            }
            throw;
        }
    }

    /// <summary>
    /// Holds an exclusive lock on a file in the directory for the store's lifetime: two processes writing one database
    /// would each assign the same offsets.
    /// </summary>
    private static FileStream LockDirectory(string directory)
    {
        var path = Path.Combine(directory, LockFileName);
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (UnauthorizedAccessException error)
        {
            throw new SqliteStoreException($"Cannot write in the data directory {directory}: {error.Message}. Make it writable for this user, " +
                "point data_dir (--data-dir) at a writable folder, or run with --memory", error);
        }
        catch (IOException error)
        {
            throw new SqliteStoreException($"The data directory {directory} is in use by another Herald process ({path} is locked): stop that " +
                "process, or point data_dir (--data-dir) at another folder", error);
        }
    }

    /// <summary>Finishes the queued writes and closes the database.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await _writer.StopAsync().ConfigureAwait(false);
            Close();
        }
    }

    /// <summary>Finishes the queued writes and closes the database.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _writer.Dispose();
            Close();
        }
    }

    private void Close()
    {
        _reader.Dispose();
        _lock.Dispose();
        SqliteStoreLog.Closed(_logger, DatabasePath);
    }
}
