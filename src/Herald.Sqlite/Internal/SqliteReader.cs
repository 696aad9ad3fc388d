using System.Collections.Concurrent;
using Herald.Core.Engine;
using Microsoft.Data.Sqlite;

namespace Herald.Sqlite.Internal;

/// <summary>
/// Reads on their own connections, beside the writer (WAL: readers see the last commit and never block the writer).
/// Each read runs in one read transaction, so a page's position and entries come from the same snapshot.
/// </summary>
internal sealed class SqliteReader(string path) : IDisposable
{
    private readonly ConcurrentBag<ReadConnection> _idle = [];
    private readonly int _maxIdle = Math.Max(4, Environment.ProcessorCount);
    private volatile bool _disposed;

    /// <summary>Runs <paramref name="read"/> in a read transaction; SQLite errors become <see cref="StoreUnavailableException"/>.</summary>
    public T Read<T>(Func<ReadConnection, T> read)
    {
        if (_disposed)
        {
            throw new StoreUnavailableException($"the database {path} is closed (the server is shutting down)");
        }
        ReadConnection? connection = null;
        try
        {
            connection = _idle.TryTake(out var idle) ? idle : new ReadConnection(SqliteSchema.Open(path, readOnly: true));
            var result = connection.InTransaction(read);
            Return(connection);
            return result;
        }
        catch (Exception error)
        {
            // The connection may be in any state after an error: close it rather than reuse it.
            connection?.Dispose();
            if (error is SqliteException sqlite)
            {
                throw SqliteErrors.Unavailable(sqlite, path);
            }
            throw;
        }
    }

    private void Return(ReadConnection connection)
    {
        if (_disposed || _idle.Count >= _maxIdle)
        {
            connection.Dispose();
            return;
        }
        _idle.Add(connection);
    }

    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryTake(out var connection))
        {
            connection.Dispose();
        }
    }
}

/// <summary>A stream row as a reader sees it.</summary>
internal readonly record struct StreamHeader(long Id, string Epoch, ulong Top, ulong Acked, long TtlMilliseconds);

/// <summary>One read connection with its prepared statements.</summary>
internal sealed class ReadConnection : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _begin, _commit, _stream, _ascending, _descending, _oldest;

    public ReadConnection(SqliteConnection connection)
    {
        _connection = connection;
        _begin = Statements.Prepare(_connection, "BEGIN DEFERRED");
        _commit = Statements.Prepare(_connection, "COMMIT");
        _stream = Statements.Prepare(_connection, "SELECT id, epoch, top, acked, ttl_ms FROM streams WHERE kind = $kind AND name = $name", "$kind", "$name");
        _ascending = Statements.Prepare(_connection, """
            SELECT seq, time, data, event FROM entries WHERE stream = $stream AND seq > $since AND time >= $cutoff ORDER BY seq LIMIT $limit
            """, "$stream", "$since", "$cutoff", "$limit");
        _descending = Statements.Prepare(_connection, """
            SELECT seq, time, data, event FROM entries WHERE stream = $stream AND seq > $since AND time >= $cutoff ORDER BY seq DESC LIMIT $limit
            """, "$stream", "$since", "$cutoff", "$limit");
        _oldest = Statements.Prepare(_connection, "SELECT seq FROM entries WHERE stream = $stream AND time >= $cutoff ORDER BY seq LIMIT 1", "$stream", "$cutoff");
    }

    public T InTransaction<T>(Func<ReadConnection, T> read)
    {
        _begin.ExecuteNonQuery();
        try
        {
            return read(this);
        }
        finally
        {
            _commit.ExecuteNonQuery();
        }
    }

    /// <summary>The stream's row, or null when it does not exist.</summary>
    public StreamHeader? FindStream(StreamKind kind, string name)
    {
        _stream.Bind((int)kind, name);
        using var reader = _stream.ExecuteReader();
        return reader.Read()
            ? new StreamHeader(reader.GetInt64(0), reader.GetString(1), (ulong)reader.GetInt64(2), (ulong)reader.GetInt64(3), reader.GetInt64(4))
            : null;
    }

    /// <summary>Entries after <paramref name="since"/> no older than <paramref name="cutoff"/> (unix ms), at most <paramref name="limit"/>.</summary>
    public IReadOnlyList<StoredPublication> Entries(long stream, ulong since, long cutoff, int limit, bool newestFirst)
    {
        if (limit <= 0)
        {
            return [];
        }
        var command = newestFirst ? _descending : _ascending;
        command.Bind(stream, WriteSession.ToSqlOffset(since), cutoff, limit);
        using var reader = command.ExecuteReader();
        var entries = new List<StoredPublication>();
        while (reader.Read())
        {
            entries.Add(new StoredPublication((ulong)reader.GetInt64(0), (byte[])reader.GetValue(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)),
                reader.IsDBNull(3) ? null : reader.GetString(3)));
        }
        return entries;
    }

    /// <summary>The oldest offset still served (no older than <paramref name="cutoff"/>), 0 when none.</summary>
    public ulong OldestOffset(long stream, long cutoff)
    {
        _oldest.Bind(stream, cutoff);
        return _oldest.ExecuteScalar() is long offset ? (ulong)offset : 0;
    }



    public void Dispose()
    {
        foreach (var command in new[] { _begin, _commit, _stream, _ascending, _descending, _oldest })
        {
            command.Dispose();
        }
        _connection.Dispose();
    }
}
