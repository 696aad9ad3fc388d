namespace Herald.Sqlite;

/// <summary>The database could not be opened; the message says what to change (folder, permissions, another process).</summary>
public sealed class SqliteStoreException(string message, Exception? inner = null) : Exception(message, inner);
