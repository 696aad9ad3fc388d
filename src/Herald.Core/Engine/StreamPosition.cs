namespace Herald.Core.Engine;

/// <summary>
/// A place in a channel's publication stream: the offset of the newest publication (0 when none yet) and the epoch,
/// which names this incarnation of the stream and changes only when the stream is lost.
/// </summary>
public readonly record struct StreamPosition(ulong Offset, string Epoch);

/// <summary>One stored publication.</summary>
/// <param name="Offset">Its offset in the channel's stream (or the user's inbox).</param>
/// <param name="Data">The publication's data as raw JSON.</param>
/// <param name="Time">When it was stored.</param>
/// <param name="Event">The event name it was published with; null when none.</param>
public sealed record StoredPublication(ulong Offset, byte[] Data, DateTimeOffset Time, string? Event = null);

/// <summary>How much history a channel keeps: the newest <paramref name="Size"/> publications no older than <paramref name="Ttl"/>.</summary>
public readonly record struct RetentionLimits(int Size, TimeSpan Ttl)
{
    /// <summary>Whether anything is kept.</summary>
    public bool Enabled => Size > 0 && Ttl > TimeSpan.Zero;
}

/// <summary>A page of a channel's history.</summary>
/// <param name="Position">The stream's current position.</param>
/// <param name="Publications">The publications asked for, in the order asked for.</param>
/// <param name="OldestOffset">The oldest offset still stored; 0 when nothing is stored.</param>
public sealed record HistoryPage(StreamPosition Position, IReadOnlyList<StoredPublication> Publications, ulong OldestOffset);

/// <summary>A page of a user's inbox.</summary>
/// <param name="Offset">The newest inbox offset (0 when the inbox never held anything).</param>
/// <param name="Acked">Offsets up to this one were acknowledged by the user.</param>
/// <param name="Publications">Entries after the requested offset, oldest first.</param>
public sealed record InboxPage(ulong Offset, ulong Acked, IReadOnlyList<StoredPublication> Publications);

/// <summary>The store cannot take writes now (disk full, database error); live delivery goes on.</summary>
public sealed class StoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>
    /// Set by a broker that delivers in process (<see cref="LocalBroker"/>) when the store failed but the publication
    /// was still delivered live, without an offset: the live clients have it, recovery cannot give it to anybody.
    /// </summary>
    public bool DeliveredLive { get; init; }
}
