using Herald.Core.Engine;
using Herald.Sqlite.Internal;

namespace Herald.Sqlite;

/// <summary>
/// Channel history in SQLite: appends go through the group-committing writer (an append completes once committed),
/// reads run on their own connections. A channel never published to has offset 0 and an epoch reserved in memory
/// (no write): its first append creates the stream with that epoch, so a client that subscribed early recovers with
/// it; the epoch is then kept across restarts until the stream is removed. A restart forgets unused reservations, which
/// safely makes such a client's recovery answer recovered:false; so does <see cref="ForgetIdle"/>, which the node calls
/// so that names subscribed once and never published do not pile up.
/// </summary>
internal sealed class SqliteHistoryStore(SqliteWriter writer, SqliteReader reader, TimeProvider time) : IHistoryStore, IForgetsIdleStreams
{
    private readonly EpochReservations _reserved = new(time);

    private string Reserve(string channel) => _reserved.Reserve(channel);

    /// <inheritdoc />
    public int IdleStateCount => _reserved.Count;

    /// <inheritdoc />
    public int ForgetIdle(TimeSpan idle, Func<string, bool> inUse) => _reserved.Forget(idle, inUse);

    /// <inheritdoc />
    public ValueTask<StreamPosition> AppendAsync(string channel, byte[] data, RetentionLimits limits, string? eventName = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(data);
        // The task is the writer's own (no wrapper), so appends to one channel complete in offset order.
        return new(writer.WriteAsync(session =>
        {
            var epoch = _reserved.TryUse(channel) ?? Epochs.New();
            var stream = session.FindOrCreate(StreamKind.Channel, channel, epoch);
            if (!ReferenceEquals(stream.Epoch, epoch))
            {
                // The stream already existed: its reservation (if any) is stale. A stream created by this write keeps
                // its reservation until a later write finds it, so a failed commit cannot lose the reserved epoch.
                _reserved.Remove(channel);
            }
            return new StreamPosition(session.Append(stream, data, eventName, limits), stream.Epoch);
        }, cancellation));
    }

    /// <inheritdoc />
    public ValueTask<HistoryPage> ReadAsync(string channel, ulong sinceOffset, int limit, bool newestFirst, CancellationToken cancellation = default) =>
        Read(cancellation, connection =>
        {
            if (connection.FindStream(StreamKind.Channel, channel) is not { } stream)
            {
                return new HistoryPage(new StreamPosition(0, Reserve(channel)), [], 0);
            }
            var cutoff = time.GetUtcNow().ToUnixTimeMilliseconds() - stream.TtlMilliseconds;
            return new HistoryPage(
                new StreamPosition(stream.Top, stream.Epoch),
                connection.Entries(stream.Id, sinceOffset, cutoff, limit, newestFirst),
                connection.OldestOffset(stream.Id, cutoff));
        });

    /// <inheritdoc />
    public ValueTask<StreamPosition> GetPositionAsync(string channel, CancellationToken cancellation = default) =>
        Read(cancellation, connection => connection.FindStream(StreamKind.Channel, channel) is { } stream
            ? new StreamPosition(stream.Top, stream.Epoch)
            : new StreamPosition(0, Reserve(channel)));

    /// <inheritdoc />
    public ValueTask RemoveAsync(string channel, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(channel);
        return new(writer.WriteAsync(session =>
        {
            session.Remove(StreamKind.Channel, channel);
            _reserved.Remove(channel); // the next epoch must be new
            return true;
        }, cancellation));
    }

    private ValueTask<T> Read<T>(CancellationToken cancellation, Func<ReadConnection, T> read)
    {
        try
        {
            cancellation.ThrowIfCancellationRequested();
            return ValueTask.FromResult(reader.Read(read));
        }
        catch (Exception error)
        {
            return ValueTask.FromException<T>(error);
        }
    }
}
