using Herald.Core.Engine;

namespace Herald.Redis.Internal;

/// <summary>Retention and times as the scripts take them: milliseconds, -1 for "forever", offsets within Lua's exact range.</summary>
internal static class Retention
{
    /// <summary>Offsets and acknowledgements passed to Lua are capped here (2^53): Lua numbers are doubles.</summary>
    public const long MaxOffset = 1L << 53;

    private static readonly TimeSpan Forever = TimeSpan.FromDays(100 * 365);

    /// <summary>A TTL in ms: -1 when it is so long (or infinite) it means "no TTL", 0 when nothing is kept.</summary>
    public static long Milliseconds(TimeSpan ttl) =>
        ttl == Timeout.InfiniteTimeSpan || ttl >= Forever ? -1 : ttl <= TimeSpan.Zero ? 0 : Math.Max(1, (long)ttl.TotalMilliseconds);

    /// <summary>How long an unused position stays, in ms; -1 (never expires) for zero or infinite.</summary>
    public static long Keep(TimeSpan positionTtl) => positionTtl == TimeSpan.Zero ? -1 : Milliseconds(positionTtl);

    /// <summary>
    /// How long the position (meta hash) stays after an append: the longer of the TTL and <paramref name="positionTtl"/>;
    /// -1 (never expires) when either is unlimited.
    /// </summary>
    public static long PositionMilliseconds(long ttl, TimeSpan positionTtl)
    {
        var keep = Keep(positionTtl);
        return ttl < 0 || keep < 0 ? -1 : Math.Max(ttl, keep);
    }

    public static long Size(RetentionLimits limits) => Math.Max(0, limits.Size);

    public static long Offset(ulong offset) => offset > MaxOffset ? MaxOffset : (long)offset;
}
