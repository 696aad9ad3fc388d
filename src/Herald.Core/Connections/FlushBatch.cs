using System.Buffers;

namespace Herald.Core.Connections;

/// <summary>
/// The connections a fan-out queued frames for, collected on a thread that should not write to sockets itself (UDP
/// ingress: while it writes it does not read, and one thread would carry every send of a broadcast). At the end of
/// the fan-out <see cref="Dispatch"/> hands them to the thread pool in slices, so the sends run on every core and each
/// costs no task or work item of its own. A connection is in a batch only while it holds its flush, so its frames
/// still go out in order.
/// </summary>
internal sealed class FlushBatch
{
    /// <summary>Connections per thread-pool work item: enough to make the hand-off cheap, few enough to spread.</summary>
    internal const int SliceSize = 128;

    [ThreadStatic]
    private static FlushBatch? t_cached;

    [ThreadStatic]
    private static bool t_enabled;

    private Connection[] _connections = ArrayPool<Connection>.Shared.Rent(SliceSize);
    private int _count;

    /// <summary>Makes every fan-out on this thread batch its flushes (UDP ingress's receive thread calls this).</summary>
    public static void UseOnThisThread() => t_enabled = true;

    /// <summary>A batch for a fan-out on this thread, or null where flushes run inline (every thread but UDP ingress's).</summary>
    public static FlushBatch? ForCurrentThread()
    {
        if (!t_enabled)
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
