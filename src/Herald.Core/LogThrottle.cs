namespace Herald.Core;

/// <summary>
/// Lets one log line per cause through per interval and counts the ones held back, so that clients repeating a
/// mistake (or repeatedly triggering a bug) cannot fill the disk; the next line of that cause says how many were not
/// logged. A cause is a short stable text: an error code, an exception type and the method that threw. At most
/// <see cref="MaxCauses"/> causes are told apart; beyond that the rest share one. Intervals are measured with the
/// given <see cref="TimeProvider"/> (the system's by default).
/// </summary>
internal sealed class LogThrottle(TimeSpan interval, TimeProvider? time = null)
{
    /// <summary>The number of causes tracked separately.</summary>
    public const int MaxCauses = 256;

    private const string OtherCauses = "(other causes)";

    private readonly Dictionary<string, Entry> _causes = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>The default: one line per cause every 10 seconds.</summary>
    /// <summary>
    /// The cause a server fault is throttled under: its type and where it was thrown (the first line of its stack trace),
    /// so one bug logs once per interval and another bug still gets its own line. Read from the stack trace's text, not
    /// through reflection, so it works the same in a trimmed or native build.
    /// </summary>
    public static string FaultCause(Exception ex)
    {
        var trace = ex.StackTrace.AsSpan().TrimStart();
        var end = trace.IndexOfAny('\r', '\n');
        var frame = end < 0 ? trace : trace[..end];
        var args = frame.IndexOf('(');
        return string.Concat(ex.GetType().FullName, " ", args < 0 ? frame : frame[..args]);
    }

    public static LogThrottle Default(TimeProvider? time = null) => new(TimeSpan.FromSeconds(10), time);

    /// <summary>
    /// True when a line of <paramref name="cause"/> may be logged now; <paramref name="suppressed"/> is then the number
    /// held back since the last one. False (and counted) otherwise.
    /// </summary>
    public bool ShouldLog(string cause, out long suppressed)
    {
        var now = _time.GetTimestamp();
        lock (_lock)
        {
            if (!_causes.TryGetValue(cause, out var entry))
            {
                if (_causes.Count >= MaxCauses)
                {
                    Forget(now);
                    if (_causes.Count >= MaxCauses)
                    {
                        cause = OtherCauses;
                    }
                }
                if (!_causes.TryGetValue(cause, out entry))
                {
                    _causes[cause] = new Entry(now, 0);
                    suppressed = 0;
                    return true;
                }
            }
            if (_time.GetElapsedTime(entry.LastLogged, now) < interval)
            {
                _causes[cause] = entry with { Suppressed = entry.Suppressed + 1 };
                suppressed = 0;
                return false;
            }
            suppressed = entry.Suppressed;
            _causes[cause] = new Entry(now, 0);
            return true;
        }
    }

    /// <summary>Words for a log line: empty when nothing was held back.</summary>
    public static string Note(long suppressed) =>
        suppressed == 0 ? "" : $" ({suppressed} more like it not logged since the previous one)";

    /// <summary>Drops causes quiet for a whole interval whose held-back lines nobody will report (their count is lost).</summary>
    private void Forget(long now)
    {
        foreach (var (cause, entry) in _causes)
        {
            if (_time.GetElapsedTime(entry.LastLogged, now) >= interval)
            {
                _causes.Remove(cause);
            }
        }
    }

    /// <summary>A cause's last logged line (a <see cref="TimeProvider"/> timestamp) and the lines held back since.</summary>
    private readonly record struct Entry(long LastLogged, long Suppressed);
}
