using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace Herald.Server.Transports;

/// <summary>
/// Limits new WebSocket connections per second from one IP address (setting max_connections_per_ip_per_second), so
/// one client in a reconnect loop cannot crowd out the rest. A fixed one-second window per address; idle entries are
/// swept so the table does not grow without bound.
/// </summary>
internal sealed class ConnectionRateLimiter(int perSecond)
{
    private readonly ConcurrentDictionary<IPAddress, Window> _windows = new();
    private long _lastSweep = Stopwatch.GetTimestamp();

    public bool Enabled => perSecond > 0;

    public bool TryAcquire(IPAddress? address)
    {
        if (perSecond <= 0 || address is null)
        {
            return true;
        }
        var second = Stopwatch.GetTimestamp() / Stopwatch.Frequency;
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

    private void SweepNowAndThen(long second)
    {
        var last = Interlocked.Read(ref _lastSweep) / Stopwatch.Frequency;
        if (second - last < 60 || Interlocked.Exchange(ref _lastSweep, Stopwatch.GetTimestamp()) / Stopwatch.Frequency != last)
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
        public long Second;
        public int Count;
    }
}
