namespace Herald.Core.Tests;

public sealed class LogThrottleTests
{
    [Fact]
    public void A_cause_is_let_through_again_once_its_interval_passed_on_the_given_clock_with_the_count_held_back()
    {
        var time = new ManualTime();
        var throttle = new LogThrottle(TimeSpan.FromSeconds(10), time);

        var first = throttle.ShouldLog("a", out _);
        var held = Enumerable.Range(0, 3).Count(i => throttle.ShouldLog("a", out _));
        time.Advance(TimeSpan.FromSeconds(9.9));
        var justBefore = throttle.ShouldLog("a", out _);
        time.Advance(TimeSpan.FromSeconds(0.1));
        var after = throttle.ShouldLog("a", out var suppressed);
        var rightAfter = throttle.ShouldLog("a", out _);

        Assert.True(first);
        Assert.Equal(0, held);
        Assert.False(justBefore);
        Assert.True(after); // ten seconds passed on the clock the throttle was given, however little passed on the machine's
        Assert.Equal(4, suppressed);
        Assert.False(rightAfter);
    }

    [Fact]
    public void Causes_quiet_for_a_whole_interval_make_room_for_new_ones_beyond_the_cap()
    {
        var time = new ManualTime();
        var throttle = new LogThrottle(TimeSpan.FromSeconds(10), time);
        for (var i = 0; i < LogThrottle.MaxCauses; i++)
        {
            throttle.ShouldLog("cause " + i, out _);
        }
        throttle.ShouldLog("shared", out _); // beyond the cap: the line of all other causes
        var sharedWhileFull = throttle.ShouldLog("another", out _);

        time.Advance(TimeSpan.FromSeconds(10));
        var newAfterQuiet = throttle.ShouldLog("another", out _);
        var againAtOnce = throttle.ShouldLog("another", out _);

        Assert.False(sharedWhileFull);
        Assert.True(newAfterQuiet);
        Assert.False(againAtOnce); // tracked as its own cause again, not lumped with the rest
    }

    [Fact]
    public void A_fault_is_throttled_under_its_type_and_the_place_it_was_thrown()
    {
        static Exception Catch(Action action)
        {
            try
            {
                action();
            }
            catch (Exception ex)
            {
                return ex;
            }
            throw new InvalidOperationException("nothing was thrown");
        }
        var first = Catch(ThrowHere);
        var again = Catch(ThrowHere);
        var elsewhere = Catch(ThrowThere);
        var otherType = Catch(() => throw new ArgumentException("x"));

        Assert.Equal(LogThrottle.FaultCause(first), LogThrottle.FaultCause(again));
        Assert.NotEqual(LogThrottle.FaultCause(first), LogThrottle.FaultCause(elsewhere));
        Assert.Contains(nameof(ThrowHere), LogThrottle.FaultCause(first), StringComparison.Ordinal);
        Assert.StartsWith("System.ArgumentException ", LogThrottle.FaultCause(otherType), StringComparison.Ordinal);
        Assert.Equal("System.InvalidOperationException ", LogThrottle.FaultCause(new InvalidOperationException("never thrown")));
    }

    private static void ThrowHere() => throw new InvalidOperationException("here");

    private static void ThrowThere() => throw new InvalidOperationException("there");
}

