using Herald.Core.Engine;
using Microsoft.Data.Sqlite;

namespace Herald.Sqlite.Internal;

/// <summary>
/// The writer's connection: prepared statements and a cache of stream rows. Used only on the writer thread, inside
/// one transaction per batch (<see cref="Begin"/> ... <see cref="Commit"/>); offsets are assigned here, so a rolled
/// back transaction assigns nothing.
/// </summary>
internal sealed class WriteSession : IDisposable
{
    private const int MaxCachedStreams = 100_000;

    private readonly SqliteConnection _connection;
    private readonly Dictionary<(StreamKind, string), StreamState> _streams = [];
    private readonly List<StreamState> _changed = [];
    private readonly SqliteCommand _begin, _commit, _rollback;
    private readonly SqliteCommand _findStream, _createStream, _updateStream, _deleteStream;
    private readonly SqliteCommand _insertEntry, _deleteEntries, _oldestEntry, _entryTime, _sweep;
    private long _now;

    public WriteSession(SqliteConnection connection)
    {
        _connection = connection;
        _begin = Statements.Prepare(_connection, "BEGIN IMMEDIATE");
        _commit = Statements.Prepare(_connection, "COMMIT");
        _rollback = Statements.Prepare(_connection, "ROLLBACK");
        _findStream = Statements.Prepare(_connection, "SELECT id, epoch, top, acked, last_time, size_limit, ttl_ms FROM streams WHERE kind = $kind AND name = $name", "$kind", "$name");
        _createStream = Statements.Prepare(_connection, """
            INSERT INTO streams (kind, name, epoch, top, acked, size_limit, ttl_ms, last_time)
            VALUES ($kind, $name, $epoch, 0, 0, $size, $ttl, 0) RETURNING id
            """, "$kind", "$name", "$epoch", "$size", "$ttl");
        _updateStream = Statements.Prepare(_connection, "UPDATE streams SET top = $top, acked = $acked, size_limit = $size, ttl_ms = $ttl, last_time = $last WHERE id = $id",
            "$top", "$acked", "$size", "$ttl", "$last", "$id");
        _deleteStream = Statements.Prepare(_connection, "DELETE FROM streams WHERE id = $id", "$id");
        _insertEntry = Statements.Prepare(_connection, "INSERT INTO entries (stream, seq, time, data, event) VALUES ($stream, $seq, $time, $data, $event)",
            "$stream", "$seq", "$time", "$data", "$event");
        _deleteEntries = Statements.Prepare(_connection, "DELETE FROM entries WHERE stream = $stream AND seq <= $seq", "$stream", "$seq");
        _oldestEntry = Statements.Prepare(_connection, "SELECT seq, time FROM entries WHERE stream = $stream ORDER BY seq LIMIT 1", "$stream");
        _entryTime = Statements.Prepare(_connection, "SELECT time FROM entries WHERE stream = $stream AND seq = $seq", "$stream", "$seq");
        // A stream whose newest entry expired has only expired entries: the whole range goes, with one index seek each.
        _sweep = Statements.Prepare(_connection, "DELETE FROM entries WHERE stream IN (SELECT id FROM streams WHERE last_time < $now - ttl_ms)", "$now");
    }

    /// <summary>Runs arbitrary SQL on the writer connection and returns the first value (tests use it for PRAGMA max_page_count).</summary>
    internal object? Scalar(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>Starts the batch's transaction; <paramref name="now"/> (unix ms) stamps every entry of the batch.</summary>
    public void Begin(long now)
    {
        if (_streams.Count > MaxCachedStreams)
        {
            _streams.Clear();
        }
        _now = now;
        _begin.ExecuteNonQuery();
    }

    /// <summary>Writes the changed stream rows, trims the streams that grew to their limits, and commits.</summary>
    public void Commit()
    {
        foreach (var stream in _changed)
        {
            if (stream.Removed)
            {
                continue;
            }
            _updateStream.Bind((long)stream.Top, (long)stream.Acked, stream.SizeLimit, stream.TtlMilliseconds, stream.LastTime, stream.Id);
            _updateStream.ExecuteNonQuery();
            if (stream.Grew)
            {
                Trim(stream);
            }
        }
        _commit.ExecuteNonQuery();
        foreach (var stream in _changed)
        {
            stream.Dirty = stream.Grew = false;
        }
        _changed.Clear();
    }

    /// <summary>Undoes the batch: rolls back and forgets every cached row, so the next batch reads the truth from the database.</summary>
    public void Rollback()
    {
        _streams.Clear();
        _changed.Clear();
        try
        {
            _rollback.ExecuteNonQuery();
        }
        catch (SqliteException)
        {
            // SQLite already rolled back (it does on SQLITE_FULL and some I/O errors): nothing left to undo.
        }
    }

    /// <summary>The stream, or null when it does not exist.</summary>
    public StreamState? Find(StreamKind kind, string name)
    {
        if (_streams.TryGetValue((kind, name), out var cached))
        {
            return cached;
        }
        _findStream.Bind((int)kind, name);
        using var reader = _findStream.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }
        var stream = new StreamState(reader.GetInt64(0), reader.GetString(1))
        {
            Top = (ulong)reader.GetInt64(2),
            Acked = (ulong)reader.GetInt64(3),
            LastTime = reader.GetInt64(4),
            SizeLimit = reader.GetInt32(5),
            TtlMilliseconds = reader.GetInt64(6),
        };
        _streams[(kind, name)] = stream;
        return stream;
    }

    /// <summary>The stream, created empty (with <paramref name="epoch"/>) when it does not exist.</summary>
    public StreamState FindOrCreate(StreamKind kind, string name, string epoch)
    {
        if (Find(kind, name) is { } existing)
        {
            return existing;
        }
        _createStream.Bind((int)kind, name, epoch, int.MaxValue, long.MaxValue);
        var stream = new StreamState(Convert.ToInt64(_createStream.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture), epoch);
        _streams[(kind, name)] = stream;
        return stream;
    }

    /// <summary>Stores <paramref name="data"/> (and its event name, null: none) as the stream's next entry and returns its offset.</summary>
    public ulong Append(StreamState stream, byte[] data, string? eventName, RetentionLimits limits)
    {
        var offset = stream.Top + 1;
        var time = Math.Max(_now, stream.LastTime);
        _insertEntry.Bind(stream.Id, (long)offset, time, data, (object?)eventName ?? DBNull.Value);
        _insertEntry.ExecuteNonQuery();
        stream.Top = offset;
        stream.LastTime = time;
        stream.SizeLimit = Math.Max(0, limits.Size);
        stream.TtlMilliseconds = ToMilliseconds(limits.Ttl);
        stream.Grew = true;
        MarkChanged(stream);
        return offset;
    }

    /// <summary>Moves the stream's acknowledged offset up to <paramref name="offset"/>, never past the newest; returns it.</summary>
    public ulong Ack(StreamState stream, ulong offset)
    {
        var acked = Math.Max(stream.Acked, Math.Min(offset, stream.Top));
        if (acked != stream.Acked)
        {
            stream.Acked = acked;
            MarkChanged(stream);
        }
        return acked;
    }

    /// <summary>Deletes the stream's entries up to <paramref name="upToOffset"/> (null: all); the stream row stays.</summary>
    public void DeleteEntries(StreamState stream, ulong? upToOffset)
    {
        var upTo = ToSqlOffset(upToOffset ?? ulong.MaxValue);
        DeleteEntries(stream.Id, upTo);
        // Entries appended later get offsets above the top, so the bound never passes top + 1.
        stream.OldestOffsetBound = Math.Max(stream.OldestOffsetBound, Math.Min((ulong)upTo, stream.Top) + 1);
    }

    /// <summary>Deletes the stream and all its entries; the next append creates a new one.</summary>
    public void Remove(StreamKind kind, string name)
    {
        if (Find(kind, name) is not { } stream)
        {
            return;
        }
        DeleteEntries(stream.Id, long.MaxValue);
        _deleteStream.Bind(stream.Id);
        _deleteStream.ExecuteNonQuery();
        stream.Removed = true;
        _streams.Remove((kind, name));
    }

    /// <summary>Deletes the entries of every stream whose newest entry expired; returns how many.</summary>
    public int SweepExpired()
    {
        _sweep.Bind(_now);
        return _sweep.ExecuteNonQuery();
    }

    /// <summary>
    /// Keeps the newest SizeLimit entries no older than the TTL. Expired entries are a prefix, found by binary search;
    /// the cached bounds skip both steps when they cannot delete anything.
    /// </summary>
    private void Trim(StreamState stream)
    {
        if (stream.Top > (ulong)stream.SizeLimit && stream.Top - (ulong)stream.SizeLimit >= stream.OldestOffsetBound)
        {
            DeleteEntries(stream.Id, (long)(stream.Top - (ulong)stream.SizeLimit));
            stream.OldestOffsetBound = stream.Top - (ulong)stream.SizeLimit + 1;
        }
        var cutoff = _now - stream.TtlMilliseconds;
        if (stream.OldestTimeBound >= cutoff)
        {
            return;
        }
        long oldest;
        using (var reader = _oldestEntry.Bind(stream.Id).ExecuteReader())
        {
            if (!reader.Read())
            {
                // Empty (a size limit of 0): whatever comes next is stamped now or later.
                stream.OldestTimeBound = _now;
                return;
            }
            oldest = reader.GetInt64(0);
            stream.OldestTimeBound = reader.GetInt64(1);
            if (stream.OldestTimeBound >= cutoff)
            {
                return;
            }
        }
        // The first offset still fresh lies in (oldest, top + 1]; top + 1 means every entry expired.
        var low = oldest + 1;
        var high = (long)stream.Top + 1;
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            if (EntryTime(stream.Id, middle) >= cutoff)
            {
                high = middle;
            }
            else
            {
                low = middle + 1;
            }
        }
        DeleteEntries(stream.Id, low - 1);
        stream.OldestOffsetBound = (ulong)low;
        stream.OldestTimeBound = cutoff;
    }

    private long EntryTime(long stream, long offset)
    {
        _entryTime.Bind(stream, offset);
        // Offsets are contiguous, so a missing entry cannot happen; if it did, keeping is the safe answer.
        return _entryTime.ExecuteScalar() is long time ? time : long.MaxValue;
    }

    private void DeleteEntries(long stream, long upToOffset)
    {
        _deleteEntries.Bind(stream, upToOffset);
        _deleteEntries.ExecuteNonQuery();
    }

    private void MarkChanged(StreamState stream)
    {
        if (!stream.Dirty)
        {
            stream.Dirty = true;
            _changed.Add(stream);
        }
    }

    private static long ToMilliseconds(TimeSpan ttl) =>
        ttl <= TimeSpan.Zero ? 0 : ttl >= TimeSpan.FromDays(100 * 365) ? long.MaxValue / 2 : (long)ttl.TotalMilliseconds;

    /// <summary>SQLite integers are signed: offsets beyond long.MaxValue cannot exist, so they mean "all".</summary>
    internal static long ToSqlOffset(ulong offset) => offset > long.MaxValue ? long.MaxValue : (long)offset;



    public void Dispose()
    {
        foreach (var command in new[] { _begin, _commit, _rollback, _findStream, _createStream, _updateStream, _deleteStream, _insertEntry, _deleteEntries, _oldestEntry, _entryTime, _sweep })
        {
            command.Dispose();
        }
        _connection.Dispose();
    }
}
