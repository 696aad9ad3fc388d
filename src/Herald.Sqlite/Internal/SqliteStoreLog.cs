using Microsoft.Extensions.Logging;

namespace Herald.Sqlite.Internal;

/// <summary>Source-generated log messages of the SQLite store, with stable event ids (3xxx).</summary>
internal static partial class SqliteStoreLog
{
    [LoggerMessage(3001, LogLevel.Information, "Opened the database {Path} (SQLite {Version}, WAL journal, synchronous=NORMAL)")]
    public static partial void Opened(ILogger logger, string path, string version);

    [LoggerMessage(3002, LogLevel.Error, "Database write failed, {Operations} writes not stored: {Reason}. Writes are retried with the next publish")]
    public static partial void WriteFailed(ILogger logger, int operations, string reason, Exception exception);

    [LoggerMessage(3003, LogLevel.Debug, "Database write failed again, {Operations} writes not stored: {Reason}")]
    public static partial void WriteFailedAgain(ILogger logger, int operations, string reason);

    [LoggerMessage(3004, LogLevel.Information, "Database writes work again after {Failures} failed transactions")]
    public static partial void WritesRecovered(ILogger logger, int failures);

    [LoggerMessage(3005, LogLevel.Warning, "Removing expired history and inbox entries failed (retried later): {Reason}")]
    public static partial void SweepFailed(ILogger logger, string reason, Exception exception);

    [LoggerMessage(3006, LogLevel.Information, "Closed the database {Path}")]
    public static partial void Closed(ILogger logger, string path);
}
