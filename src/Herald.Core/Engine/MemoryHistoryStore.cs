using System.Collections.Concurrent;

namespace Herald.Core.Engine;

/// <summary>
/// History in process memory (<c>--memory</c>): lost when the process ends, which is why every stream gets a fresh
/// epoch per process. Appends complete synchronously.
/// </summary>
public sealed class MemoryHistoryStore(TimeProvider? time = null) : IHistoryStore
{
    private readonly ConcurrentDictionary<string, Stream> _streams = new(StringComparer.Ordinal);
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <inheritdoc />
    public ValueTask<StreamPosition> AppendAsync(string channel, byte[] data, RetentionLimits limits, CancellationToken cancellation = default)
    {
        var stream = _streams.GetOrAdd(channel, static _ => new Stream());
        var now = _time.GetUtcNow();
        lock (stream)
        {
            stream.Limits = limits;
            var offset = ++stream.Top;
            stream.Entries.Enqueue(new StoredPublication(offset, data, now));
            Trim(stream, limits, now);
            return ValueTask.FromResult(new StreamPosition(offset, stream.Epoch));
        }
    }

    /// <inheritdoc />
    public ValueTask<HistoryPage> ReadAsync(string channel, ulong sinceOffset, int limit, bool newestFirst, CancellationToken cancellation = default)
    {
        var stream = _streams.GetOrAdd(channel, static _ => new Stream());
        lock (stream)
        {
            Trim(stream, stream.Limits, _time.GetUtcNow());
            var all = stream.Entries;
            IEnumerable<StoredPublication> selected = newestFirst
                ? all.Reverse().Where(p => p.Offset > sinceOffset).Take(limit)
                : all.Where(p => p.Offset > sinceOffset).Take(limit);
            var oldest = all.Count == 0 ? 0 : all.Peek().Offset;
            return ValueTask.FromResult(new HistoryPage(new StreamPosition(stream.Top, stream.Epoch), [.. selected], oldest));
        }
    }

    /// <inheritdoc />
    public ValueTask<StreamPosition> GetPositionAsync(string channel, CancellationToken cancellation = default)
    {
        var stream = _streams.GetOrAdd(channel, static _ => new Stream());
        lock (stream)
        {
            return ValueTask.FromResult(new StreamPosition(stream.Top, stream.Epoch));
        }
    }

    /// <inheritdoc />
    public ValueTask RemoveAsync(string channel, CancellationToken cancellation = default)
    {
        _streams.TryRemove(channel, out _);
        return ValueTask.CompletedTask;
    }

    /// <summary>Drops entries past the limits (also called before reads so expired entries are never served).</summary>
    private static void Trim(Stream stream, RetentionLimits limits, DateTimeOffset now)
    {
        while (stream.Entries.Count > limits.Size || (stream.Entries.Count > 0 && now - stream.Entries.Peek().Time > limits.Ttl))
        {
            stream.Entries.Dequeue();
        }
    }

    private sealed class Stream
    {
        public readonly Queue<StoredPublication> Entries = new();
        public readonly string Epoch = Epochs.New();
        public ulong Top;
        public RetentionLimits Limits = new(int.MaxValue, TimeSpan.MaxValue);
    }
}
