namespace Herald.Core.Engine;

/// <summary>
/// A durable inbox per user for publishes targeted at users. Guarantees: offsets of a user start at 1 and grow by
/// exactly 1 per append; the acknowledged offset only grows and never passes the newest offset; acknowledged
/// entries are never returned by <see cref="ReadAsync"/> with the default start; entries beyond the retention limits
/// may be trimmed, oldest first. Throws <see cref="StoreUnavailableException"/> when it cannot write.
/// </summary>
public interface IInboxStore
{
    /// <summary>
    /// Stores <paramref name="data"/> as the user's next inbox entry, with its event name (<paramref name="eventName"/>,
    /// null: none), and returns its offset.
    /// </summary>
    ValueTask<ulong> AppendAsync(string user, byte[] data, RetentionLimits limits, string? eventName = null, CancellationToken cancellation = default);

    /// <summary>Entries after <paramref name="sinceOffset"/> (null: after the acknowledged offset), oldest first, at most <paramref name="limit"/>.</summary>
    ValueTask<InboxPage> ReadAsync(string user, ulong? sinceOffset, int limit, CancellationToken cancellation = default);

    /// <summary>Acknowledges entries up to <paramref name="offset"/> (capped at the newest); returns the acknowledged offset.</summary>
    ValueTask<ulong> AckAsync(string user, ulong offset, CancellationToken cancellation = default);

    /// <summary>Deletes the user's entries up to <paramref name="upToOffset"/> (null: all); offsets keep growing.</summary>
    ValueTask DeleteAsync(string user, ulong? upToOffset, CancellationToken cancellation = default);
}
