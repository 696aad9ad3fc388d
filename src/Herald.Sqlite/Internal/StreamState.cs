namespace Herald.Sqlite.Internal;

/// <summary>The writer's copy of one <c>streams</c> row; the database stays the truth (the cache is dropped when a transaction fails).</summary>
internal sealed class StreamState(long id, string epoch)
{
    public long Id { get; } = id;

    public string Epoch { get; } = epoch;

    public ulong Top { get; set; }

    public ulong Acked { get; set; }

    public long LastTime { get; set; }

    public int SizeLimit { get; set; } = int.MaxValue;

    public long TtlMilliseconds { get; set; } = long.MaxValue;

    /// <summary>Every stored entry has an offset at least this (0: not known yet); spares a DELETE that would find nothing.</summary>
    public ulong OldestOffsetBound { get; set; }

    /// <summary>Every stored entry is at least this recent, unix ms (long.MinValue: not known yet); spares the expiry check.</summary>
    public long OldestTimeBound { get; set; } = long.MinValue;

    /// <summary>Changed in the current transaction: its row is written at commit.</summary>
    public bool Dirty { get; set; }

    /// <summary>Got entries in the current transaction: trimmed to its limits at commit.</summary>
    public bool Grew { get; set; }

    /// <summary>Deleted in the current transaction.</summary>
    public bool Removed { get; set; }
}
