namespace Herald.Core.Engine;

/// <summary>
/// Keeps each channel's recent publications with offsets. Guarantees: offsets of a channel start at 1 and grow by
/// exactly 1 per append, assigned atomically with the append; when <see cref="AppendAsync"/> completes the
/// publication is as durable as the implementation promises (memory: until the process ends; SQLite: committed to
/// disk) and appends to one channel complete in offset order; the epoch changes only when the stream is lost
/// (removed, or the store lost its data), so an unchanged epoch means no offset was ever reused; publications beyond
/// the retention limits may be trimmed, oldest first. Throws <see cref="StoreUnavailableException"/> when it cannot write.
/// </summary>
public interface IHistoryStore
{
    /// <summary>
    /// Stores <paramref name="data"/> as the next publication of <paramref name="channel"/>, with its event name
    /// (<paramref name="eventName"/>, null: none), which reads return as it was given.
    /// </summary>
    ValueTask<StreamPosition> AppendAsync(string channel, byte[] data, RetentionLimits limits, string? eventName = null, CancellationToken cancellation = default);

    /// <summary>
    /// Reads publications with offsets above <paramref name="sinceOffset"/> (oldest first), or the newest ones
    /// (newest first) when <paramref name="newestFirst"/>; at most <paramref name="limit"/>.
    /// </summary>
    ValueTask<HistoryPage> ReadAsync(string channel, ulong sinceOffset, int limit, bool newestFirst, CancellationToken cancellation = default);

    /// <summary>
    /// The channel's current position. For a channel never published to: offset 0 and the epoch its first publication
    /// will get (reserved, so an early subscriber can recover from it), unless the store restarts before then.
    /// </summary>
    ValueTask<StreamPosition> GetPositionAsync(string channel, CancellationToken cancellation = default);

    /// <summary>Forgets the channel's history; its next publication starts a new epoch at offset 1.</summary>
    ValueTask RemoveAsync(string channel, CancellationToken cancellation = default);
}
