using Microsoft.Data.Sqlite;

namespace Herald.Sqlite.Internal;

/// <summary>What a stream row holds: a channel's history or a user's inbox.</summary>
internal enum StreamKind
{
    Channel = 0,
    Inbox = 1,
}

/// <summary>The tables, the connection settings and the schema version.</summary>
internal static class SqliteSchema
{
    /// <summary>
    /// Stored in <c>PRAGMA user_version</c>; a database with a higher number was written by a newer Herald.
    /// 1: the first schema. 2: entries keep their event name (<c>entries.event</c>); a version 1 database gets the
    /// column when it is opened (<see cref="Migrate"/>), its entries reading as published without an event.
    /// </summary>
    public const int Version = 2;

    /// <summary>How long a statement waits for a lock held by another connection before failing with SQLITE_BUSY.</summary>
    public const int BusyTimeoutMilliseconds = 5000;

    /// <summary>
    /// One row per stream (a channel's history or a user's inbox) and one row per stored entry. Invariants the code
    /// relies on: within a stream, entry offsets are contiguous from the oldest stored one to <c>top</c> (entries are
    /// only ever deleted oldest first, or all at once), and entry times never decrease with the offset (the writer
    /// stores max(now, last_time)), so the expired entries are always a prefix.
    /// </summary>
    public const string Create = """
        CREATE TABLE IF NOT EXISTS streams (
            id         INTEGER PRIMARY KEY,
            kind       INTEGER NOT NULL,           -- 0: channel history, 1: user inbox
            name       TEXT    NOT NULL,           -- the channel or the user id
            epoch      TEXT    NOT NULL,           -- this incarnation of a channel stream ('' for inboxes)
            top        INTEGER NOT NULL,           -- the newest offset ever assigned; the next entry gets top + 1
            acked      INTEGER NOT NULL DEFAULT 0, -- inboxes: acknowledged up to this offset
            size_limit INTEGER NOT NULL,           -- retention limits of the last append, also applied on read
            ttl_ms     INTEGER NOT NULL,
            last_time  INTEGER NOT NULL,           -- unix ms of the newest entry
            UNIQUE (kind, name)
        );
        CREATE TABLE IF NOT EXISTS entries (
            stream INTEGER NOT NULL,               -- streams.id
            seq    INTEGER NOT NULL,               -- the entry's offset in its stream
            time   INTEGER NOT NULL,               -- unix ms when stored
            data   BLOB    NOT NULL,               -- the publication's raw JSON
            event  TEXT,                           -- the event name it was published with (NULL: none); schema 2
            PRIMARY KEY (stream, seq)
        );
        """;

    /// <summary>
    /// Settings of every connection. WAL lets readers run beside the single writer. synchronous=NORMAL in WAL mode
    /// syncs only at checkpoints: a committed (acknowledged) write survives kill -9 of the process, because it is in
    /// the WAL file in the OS page cache; only a power loss or OS crash can lose the last few commits (never corrupt
    /// the database). busy_timeout makes a statement wait for a lock instead of failing at once.
    /// </summary>
    public static readonly string ConnectionPragmas = $"""
        PRAGMA synchronous = NORMAL;
        PRAGMA busy_timeout = {BusyTimeoutMilliseconds};
        """;

    /// <summary>Opens a connection to <paramref name="path"/>, optionally unable to write.</summary>
    public static SqliteConnection Open(string path, bool readOnly)
    {
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            // We keep our own connections (one writer, a few readers), configured once each.
            Pooling = false,
            DefaultTimeout = BusyTimeoutMilliseconds / 1000,
        }.ToString();
        var connection = new SqliteConnection(connectionString);
        try
        {
            connection.Open();
            Execute(connection, ConnectionPragmas + (readOnly ? "PRAGMA query_only = 1;" : ""));
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Switches the database to WAL and creates or checks the tables; run once, on the writer connection.</summary>
    public static void Initialize(SqliteConnection connection, string path)
    {
        var journal = Scalar(connection, "PRAGMA journal_mode = WAL;") as string;
        if (!string.Equals(journal, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new SqliteStoreException($"{path} cannot use the WAL journal (got \"{journal}\"): put data_dir (--data-dir) on a local disk, not a network share");
        }
        // Bounds the WAL file after a burst of writes; checkpoints keep their default cadence.
        Execute(connection, "PRAGMA journal_size_limit = 67108864;");
        var version = Convert.ToInt32(Scalar(connection, "PRAGMA user_version;"), System.Globalization.CultureInfo.InvariantCulture);
        if (version > Version)
        {
            throw new SqliteStoreException($"{path} was written by a newer Herald (schema version {version}, this one knows {Version}): " +
                "run that version, or point data_dir (--data-dir) at another folder");
        }
        Execute(connection, "BEGIN IMMEDIATE;");
        try
        {
            Execute(connection, Create);
            Migrate(connection);
            Execute(connection, $"PRAGMA user_version = {Version}; COMMIT;");
        }
        catch
        {
            Execute(connection, "ROLLBACK;");
            throw;
        }
    }

    /// <summary>
    /// Brings tables made by an older schema up to this one, in the transaction that creates them. Asks the table for
    /// the column rather than trusting the version number, so a migration interrupted or repeated is harmless.
    /// </summary>
    private static void Migrate(SqliteConnection connection)
    {
        if (Convert.ToInt64(Scalar(connection, "SELECT COUNT(*) FROM pragma_table_info('entries') WHERE name = 'event';"), System.Globalization.CultureInfo.InvariantCulture) == 0)
        {
            // Version 1 → 2: a nullable column is added without rewriting the table, however many entries it holds.
            Execute(connection, "ALTER TABLE entries ADD COLUMN event TEXT;");
        }
    }

    public static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
