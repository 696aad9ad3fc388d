using Herald.Core.Engine;
using Herald.Sqlite.Internal;

namespace Herald.Sqlite;

/// <summary>
/// User inboxes in SQLite: appends, acknowledgements and deletes go through the group-committing writer; reads run
/// on their own connections. Acknowledging or deleting in an inbox that never held anything writes nothing.
/// </summary>
internal sealed class SqliteInboxStore(SqliteWriter writer, SqliteReader reader, TimeProvider time) : IInboxStore
{
    /// <inheritdoc />
    public ValueTask<ulong> AppendAsync(string user, byte[] data, RetentionLimits limits, string? eventName = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(data);
        return new(writer.WriteAsync(session => session.Append(session.FindOrCreate(StreamKind.Inbox, user, ""), data, eventName, limits), cancellation));
    }

    /// <inheritdoc />
    public ValueTask<InboxPage> ReadAsync(string user, ulong? sinceOffset, int limit, CancellationToken cancellation = default)
    {
        try
        {
            cancellation.ThrowIfCancellationRequested();
            return ValueTask.FromResult(reader.Read(connection =>
            {
                if (connection.FindStream(StreamKind.Inbox, user) is not { } inbox)
                {
                    return new InboxPage(0, 0, []);
                }
                var cutoff = time.GetUtcNow().ToUnixTimeMilliseconds() - inbox.TtlMilliseconds;
                return new InboxPage(inbox.Top, inbox.Acked, connection.Entries(inbox.Id, sinceOffset ?? inbox.Acked, cutoff, limit, newestFirst: false));
            }));
        }
        catch (Exception error)
        {
            return ValueTask.FromException<InboxPage>(error);
        }
    }

    /// <inheritdoc />
    public ValueTask<ulong> AckAsync(string user, ulong offset, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        return new(writer.WriteAsync(session => session.Find(StreamKind.Inbox, user) is { } inbox ? session.Ack(inbox, offset) : 0UL, cancellation));
    }

    /// <inheritdoc />
    public ValueTask DeleteAsync(string user, ulong? upToOffset, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        return new(writer.WriteAsync(session =>
        {
            if (session.Find(StreamKind.Inbox, user) is { } inbox)
            {
                session.DeleteEntries(inbox, upToOffset);
            }
            return true;
        }, cancellation));
    }
}
