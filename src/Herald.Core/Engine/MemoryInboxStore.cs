using System.Collections.Concurrent;

namespace Herald.Core.Engine;

/// <summary>User inboxes in process memory (<c>--memory</c>): lost when the process ends.</summary>
public sealed class MemoryInboxStore(TimeProvider? time = null) : IInboxStore
{
    private readonly ConcurrentDictionary<string, Inbox> _inboxes = new(StringComparer.Ordinal);
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <inheritdoc />
    public ValueTask<ulong> AppendAsync(string user, byte[] data, RetentionLimits limits, string? eventName = null, CancellationToken cancellation = default)
    {
        var inbox = _inboxes.GetOrAdd(user, static _ => new Inbox());
        var now = _time.GetUtcNow();
        lock (inbox)
        {
            inbox.Limits = limits;
            var offset = ++inbox.Top;
            inbox.Entries.Enqueue(new StoredPublication(offset, data, now, eventName));
            Trim(inbox, now);
            return ValueTask.FromResult(offset);
        }
    }

    /// <inheritdoc />
    public ValueTask<InboxPage> ReadAsync(string user, ulong? sinceOffset, int limit, CancellationToken cancellation = default)
    {
        if (!_inboxes.TryGetValue(user, out var inbox))
        {
            return ValueTask.FromResult(new InboxPage(0, 0, []));
        }
        lock (inbox)
        {
            Trim(inbox, _time.GetUtcNow());
            var since = sinceOffset ?? inbox.Acked;
            return ValueTask.FromResult(new InboxPage(inbox.Top, inbox.Acked, [.. inbox.Entries.Where(e => e.Offset > since).Take(limit)]));
        }
    }

    /// <inheritdoc />
    public ValueTask<ulong> AckAsync(string user, ulong offset, CancellationToken cancellation = default)
    {
        if (!_inboxes.TryGetValue(user, out var inbox))
        {
            return ValueTask.FromResult(0UL);
        }
        lock (inbox)
        {
            inbox.Acked = Math.Max(inbox.Acked, Math.Min(offset, inbox.Top));
            return ValueTask.FromResult(inbox.Acked);
        }
    }

    /// <inheritdoc />
    public ValueTask DeleteAsync(string user, ulong? upToOffset, CancellationToken cancellation = default)
    {
        if (_inboxes.TryGetValue(user, out var inbox))
        {
            lock (inbox)
            {
                while (inbox.Entries.Count > 0 && (upToOffset is null || inbox.Entries.Peek().Offset <= upToOffset))
                {
                    inbox.Entries.Dequeue();
                }
            }
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>Drops entries past the limits of the last append (also called before reads so expired entries are never served).</summary>
    private static void Trim(Inbox inbox, DateTimeOffset now)
    {
        while (inbox.Entries.Count > inbox.Limits.Size || (inbox.Entries.Count > 0 && now - inbox.Entries.Peek().Time > inbox.Limits.Ttl))
        {
            inbox.Entries.Dequeue();
        }
    }

    private sealed class Inbox
    {
        public readonly Queue<StoredPublication> Entries = new();
        public ulong Top;
        public ulong Acked;
        public RetentionLimits Limits = new(int.MaxValue, TimeSpan.MaxValue);
    }
}
