namespace Herald.Testing;

/// <summary>
/// A clock that moves only when the test says so. Its wall clock (retention by age, token expiry) and its monotonic
/// timestamp (keep-alive, elapsed times) move together, so a component sees one consistent time whichever it reads.
/// </summary>
public sealed class ManualTime : TimeProvider
{
    private static readonly DateTimeOffset DefaultStart = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly long _frequency;
    private long _utcTicks;
    private long _timestamp;

    /// <summary>Starts at noon on 1 January 2026 (UTC), with timestamps in <see cref="TimeSpan"/> ticks.</summary>
    public ManualTime()
        : this(DefaultStart)
    {
    }

    /// <summary>Starts the wall clock at <paramref name="start"/>, with timestamps in <see cref="TimeSpan"/> ticks from the same instant.</summary>
    public ManualTime(DateTimeOffset start)
        : this(start, TimeSpan.TicksPerSecond, start.UtcTicks)
    {
    }

    /// <summary>
    /// Timestamps that count <paramref name="frequency"/> per second (a whole multiple of ticks per second) from
    /// <paramref name="start"/>: like Linux's, nanoseconds since boot, to try any machine uptime.
    /// </summary>
    public ManualTime(long frequency, long start)
        : this(DefaultStart, frequency, start)
    {
    }

    private ManualTime(DateTimeOffset wallClock, long frequency, long timestamp)
    {
        _utcTicks = wallClock.UtcTicks;
        _frequency = frequency;
        _timestamp = timestamp;
    }

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _utcTicks), TimeSpan.Zero);

    public override long TimestampFrequency => _frequency;

    public override long GetTimestamp() => Interlocked.Read(ref _timestamp);

    public void Advance(TimeSpan by)
    {
        Interlocked.Add(ref _utcTicks, by.Ticks);
        Interlocked.Add(ref _timestamp, by.Ticks * (_frequency / TimeSpan.TicksPerSecond));
    }
}
