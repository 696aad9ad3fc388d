using System.Buffers;

namespace Herald.Core.Connections;

/// <summary>
/// The connections a fan-out queued frames for, when the publisher asked for <see cref="FlushDispatch.ThreadPool"/> (UDP
/// ingress: while its thread writes it does not read, and one thread would carry every send of a broadcast). At the end of
/// the fan-out <see cref="Dispatch"/> hands them to the thread pool in slices, so the sends run on every core and each
/// costs no task or work item of its own. A connection is in a batch only while it holds its flush, so its frames
/// still go out in order.
/// </summary>
internal sealed class FlushBatch
{
    /// <summary>Connections per thread-pool work item: enough to make the hand-off cheap, few enough to spread.</summary>
    internal const int SliceSize = 128;

    /// <summary>A batch kept for reuse by the next fan-out on this thread (an allocation cache only).</summary>
    [ThreadStatic]
    private static FlushBatch? t_cached;

    private Connection[] _connections = ArrayPool<Connection>.Shared.Rent(SliceSize);
    private int _count;

    /// <summary>A batch for one fan-out dispatched as <paramref name="dispatch"/> says, or null where flushes run inline.</summary>
    public static FlushBatch? For(FlushDispatch dispatch)
    {
        if (dispatch != FlushDispatch.ThreadPool)
        {
            return null;
        }
        var batch = t_cached ?? new FlushBatch();
        t_cached = null; // a nested fan-out on this thread gets its own
        return batch;
    }

    /// <summary>Adds a connection whose flush this batch now owns.</summary>
    public void Add(Connection connection)
    {
        _connections[_count++] = connection;
        if (_count == SliceSize)
        {
            Send(_connections, _count);
            _connections = ArrayPool<Connection>.Shared.Rent(SliceSize);
            _count = 0;
        }
    }

    /// <summary>Hands what is left to the thread pool and gives the batch back to this thread.</summary>
    public void Dispatch()
    {
        if (_count > 0)
        {
            Send(_connections, _count);
            _connections = ArrayPool<Connection>.Shared.Rent(SliceSize);
            _count = 0;
        }
        t_cached = this;
    }

    private static void Send(Connection[] slice, int count) =>
        ThreadPool.UnsafeQueueUserWorkItem(static state =>
        {
            var (connections, n) = state;
            for (var i = 0; i < n; i++)
            {
                connections[i].Flush();
            }
            ArrayPool<Connection>.Shared.Return(connections, clearArray: true);
        }, (slice, count), preferLocal: false);
}
