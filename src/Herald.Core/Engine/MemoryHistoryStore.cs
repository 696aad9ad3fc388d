using System.Collections.Concurrent;

namespace Herald.Core.Engine;

/// <summary>
/// History in process memory (<c>--memory</c>): lost when the process ends, which is why every stream gets a fresh
/// epoch per process. Appends complete synchronously. A channel never published to has only a reserved epoch
/// (<see cref="EpochReservations"/>); <see cref="ForgetIdle"/> drops idle reservations and streams whose publications
/// all expired, so memory follows what is stored, not every name ever asked about.
/// </summary>
public sealed class MemoryHistoryStore(TimeProvider? time = null) : IHistoryStore, IForgetsIdleStreams
{
    private readonly ConcurrentDictionary<string, Stream> _streams = new(StringComparer.Ordinal);
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly EpochReservations _reserved = new(time);

    /// <inheritdoc />
    public int IdleStateCount => _reserved.Count + _streams.Count;

    /// <inheritdoc />
    public ValueTask<StreamPosition> AppendAsync(string channel, byte[] data, RetentionLimits limits, string? eventName = null, CancellationToken cancellation = default)
    {
        var now = _time.GetUtcNow();
        while (true)
        {
            // The first publication takes the reserved epoch; the reservation stays until it goes idle, so a reader
            // that missed the new stream by a hair still gets the same epoch.
            var stream = _streams.GetOrAdd(channel, c => new Stream(_reserved.TryUse(c) ?? Epochs.New(), _time.GetTimestamp()));
            lock (stream)
            {
                if (stream.Forgotten)
                {
                    continue; // forgotten while this append looked it up: the next lookup makes a new one
                }
                stream.Limits = limits;
                stream.LastUsed = _time.GetTimestamp();
                var offset = ++stream.Top;
                stream.Entries.Enqueue(new StoredPublication(offset, data, now, eventName));
                Trim(stream, limits, now);
                return ValueTask.FromResult(new StreamPosition(offset, stream.Epoch));
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<HistoryPage> ReadAsync(string channel, ulong sinceOffset, int limit, bool newestFirst, CancellationToken cancellation = default)
    {
        while (true)
        {
            if (!_streams.TryGetValue(channel, out var stream))
            {
                return ValueTask.FromResult(new HistoryPage(new StreamPosition(0, _reserved.Reserve(channel)), [], 0));
            }
            lock (stream)
            {
                if (stream.Forgotten)
                {
                    continue; // forgotten meanwhile: answer what the next publication will get
                }
                stream.LastUsed = _time.GetTimestamp();
                Trim(stream, stream.Limits, _time.GetUtcNow());
                var all = stream.Entries;
                IEnumerable<StoredPublication> selected = newestFirst
                    ? all.Reverse().Where(p => p.Offset > sinceOffset).Take(limit)
                    : all.Where(p => p.Offset > sinceOffset).Take(limit);
                var oldest = all.Count == 0 ? 0 : all.Peek().Offset;
                return ValueTask.FromResult(new HistoryPage(new StreamPosition(stream.Top, stream.Epoch), [.. selected], oldest));
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<StreamPosition> GetPositionAsync(string channel, CancellationToken cancellation = default)
    {
        while (true)
        {
            if (!_streams.TryGetValue(channel, out var stream))
            {
                return ValueTask.FromResult(new StreamPosition(0, _reserved.Reserve(channel)));
            }
            lock (stream)
            {
                if (stream.Forgotten)
                {
                    continue;
                }
                stream.LastUsed = _time.GetTimestamp();
                return ValueTask.FromResult(new StreamPosition(stream.Top, stream.Epoch));
            }
        }
    }

    /// <inheritdoc />
    public ValueTask RemoveAsync(string channel, CancellationToken cancellation = default)
    {
        if (_streams.TryRemove(channel, out var stream))
        {
            lock (stream)
            {
                stream.Forgotten = true;
            }
        }
        _reserved.Remove(channel); // the next epoch must be new
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    /// <remarks>
    /// A stream goes only when its publications have all expired: there is nothing left to recover, so its next
    /// publication may start a new epoch (a client that comes back with the old one gets <c>recovered:false</c>).
    /// </remarks>
    public int ForgetIdle(TimeSpan idle, Func<string, bool> inUse)
    {
        var forgotten = _reserved.Forget(idle, inUse);
        var now = _time.GetUtcNow();
        foreach (var (channel, stream) in _streams)
        {
            if (_time.GetElapsedTime(Volatile.Read(ref stream.LastUsed)) < idle || inUse(channel))
            {
                continue;
            }
            lock (stream)
            {
                Trim(stream, stream.Limits, now);
                if (stream.Entries.Count == 0 && _time.GetElapsedTime(stream.LastUsed) >= idle && !stream.Forgotten)
                {
                    stream.Forgotten = true;
                    _streams.TryRemove(new KeyValuePair<string, Stream>(channel, stream));
                    _reserved.Remove(channel); // its epoch must never come back with offsets starting again at 1
                    forgotten++;
                }
            }
        }
        return forgotten;
    }

    /// <summary>Drops entries past the limits (also called before reads so expired entries are never served).</summary>
    private static void Trim(Stream stream, RetentionLimits limits, DateTimeOffset now)
    {
        while (stream.Entries.Count > limits.Size || (stream.Entries.Count > 0 && now - stream.Entries.Peek().Time > limits.Ttl))
        {
            stream.Entries.Dequeue();
        }
    }

    private sealed class Stream(string epoch, long created)
    {
        public readonly Queue<StoredPublication> Entries = new();
        public readonly string Epoch = epoch;
        public ulong Top;
        public RetentionLimits Limits = new(int.MaxValue, TimeSpan.MaxValue);

        /// <summary>When it was last appended to or read (a <see cref="TimeProvider"/> timestamp).</summary>
        public long LastUsed = created;
        public bool Forgotten;
    }
}
