using System.Diagnostics;

namespace Herald.LoadTest;

/// <summary>
/// Publish-to-deliver latencies in <see cref="Stopwatch"/> ticks, recorded lock-free from many receive loops into one
/// array sized up front (samples beyond the capacity are counted, not kept).
/// </summary>
internal sealed class LatencyRecorder(long capacity)
{
    private readonly long[] _ticks = new long[Math.Min(capacity, 64_000_000)];
    private long _count;

    /// <summary>Samples recorded (may exceed what was kept).</summary>
    public long Count => Interlocked.Read(ref _count);

    public void Add(long ticks)
    {
        var index = Interlocked.Increment(ref _count) - 1;
        if (index < _ticks.Length)
        {
            _ticks[index] = ticks;
        }
    }

    /// <summary>p50, p99, p99.9 and max in milliseconds.</summary>
    public object Summary()
    {
        var kept = (int)Math.Min(Count, _ticks.Length);
        var span = _ticks.AsSpan(0, kept);
        span.Sort();
        double Ms(long ticks) => Math.Round(ticks * 1000.0 / Stopwatch.Frequency, 2);
        double P(ReadOnlySpan<long> s, double p) => s.Length == 0 ? 0 : Ms(s[Math.Min(s.Length - 1, (int)(p * s.Length))]);
        return new { P50 = P(span, 0.50), P99 = P(span, 0.99), P999 = P(span, 0.999), Max = kept == 0 ? 0 : Ms(span[^1]) };
    }
}
