using Herald.Core.Engine;
using Microsoft.Data.Sqlite;
using static SQLitePCL.raw;

namespace Herald.Sqlite.Internal;

/// <summary>Turns SQLite errors into messages an operator can act on.</summary>
internal static class SqliteErrors
{
    public static StoreUnavailableException Unavailable(SqliteException error, string path) => new(Describe(error, path), error);

    public static string Describe(SqliteException error, string path) => error.SqliteErrorCode switch
    {
        SQLITE_FULL => $"the disk holding {path} is full (or the database reached its size limit): free some space",
        SQLITE_IOERR => $"I/O error on {path} ({error.Message}): check the disk",
        SQLITE_BUSY or SQLITE_LOCKED => $"{path} stayed locked by another connection for too long: make sure no other program writes to it",
        SQLITE_READONLY => $"{path} is read-only: give the Herald process write permission on the file and its folder",
        SQLITE_CANTOPEN => $"cannot open {path}: check that the folder exists and is writable by the Herald process",
        SQLITE_CORRUPT or SQLITE_NOTADB => $"{path} is damaged or not a Herald database ({error.Message}): stop Herald and move the file away " +
            "to start with empty history and inboxes",
        _ => $"SQLite error on {path}: {error.Message}",
    };
}
