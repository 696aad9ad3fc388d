using System.Collections.Concurrent;
using System.Net;

namespace Herald.Server.Transports;

/// <summary>
/// Limits new WebSocket connections per second from one IP address (setting max_connections_per_ip_per_second), so
/// one client in a reconnect loop cannot crowd out the rest. A fixed one-second window per address, counted in whole
/// seconds of <paramref name="time"/> since the limiter was made; idle entries are swept so the table does not grow
/// without bound.
/// </summary>
internal sealed class ConnectionRateLimiter(int perSecond, TimeProvider time)
{
    private readonly ConcurrentDictionary<IPAddress, Window> _windows = new();
    private readonly long _started = time.GetTimestamp();
    private long _lastSweepSecond;

    public bool Enabled => perSecond > 0;

    /// <summary>Addresses with a window now (swept once they have been quiet for a while).</summary>
    internal int TrackedAddresses => _windows.Count;

    public bool TryAcquire(IPAddress? address)
    {
        if (perSecond <= 0 || address is null)
        {
            return true;
        }
        var second = (long)time.GetElapsedTime(_started).TotalSeconds;
        var window = _windows.GetOrAdd(address, static _ => new Window());
        bool allowed;
        lock (window)
        {
            if (window.Second != second)
            {
                window.Second = second;
                window.Count = 0;
            }
            allowed = ++window.Count <= perSecond;
        }
        SweepNowAndThen(second);
        return allowed;
    }

    /// <summary>Once a minute, drops the windows of addresses quiet for over ten seconds; one caller sweeps, the others go on.</summary>
    private void SweepNowAndThen(long second)
    {
        var last = Interlocked.Read(ref _lastSweepSecond);
        if (second - last < 60 || Interlocked.CompareExchange(ref _lastSweepSecond, second, last) != last)
        {
            return;
        }
        foreach (var (address, window) in _windows)
        {
            if (second - Volatile.Read(ref window.Second) > 10)
            {
                _windows.TryRemove(address, out _);
            }
        }
    }

    private sealed class Window
    {
        /// <summary>The whole second (since the limiter was made) this window counts.</summary>
        public long Second;
        public int Count;
    }
}
