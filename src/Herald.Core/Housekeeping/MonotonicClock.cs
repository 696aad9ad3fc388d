namespace Herald.Core.Housekeeping;

/// <summary>
/// The node's one clock for elapsed times: a monotonic "now" in <see cref="TimeSpan"/> ticks from a
/// <see cref="TimeProvider"/> (the system's, or a test's). Deadlines and ages are plain differences of two readings.
/// </summary>
internal sealed class MonotonicClock(TimeProvider time)
{
    /// <summary>The provider it reads (also for wall-clock time and timers).</summary>
    public TimeProvider Time { get; } = time;

    /// <summary>Now, in TimeSpan ticks since an arbitrary fixed point (the machine's boot on Linux).</summary>
    public long Now => ToTicks(Time.GetTimestamp(), Time.TimestampFrequency);

    /// <summary>
    /// A timestamp of <paramref name="frequency"/> per second in TimeSpan ticks. Whole seconds and the remainder are
    /// scaled apart: a nanosecond clock (Linux) times TicksPerSecond overflows a long after 922 s of machine uptime,
    /// which made "now" negative for 15 minutes out of every 30 and broke every deadline comparison.
    /// </summary>
    public static long ToTicks(long timestamp, long frequency) =>
        timestamp / frequency * TimeSpan.TicksPerSecond + timestamp % frequency * TimeSpan.TicksPerSecond / frequency;
}
