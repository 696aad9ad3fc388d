using System.Net;
using Herald.Server.Transports;

namespace Herald.Server.Tests.Transports;

/// <summary>max_connections_per_ip_per_second counts new connections per address in one-second windows of the server's clock.</summary>
public sealed class ConnectionRateLimiterTests
{
    private static readonly IPAddress First = IPAddress.Parse("127.0.0.1");

    [Fact]
    public void An_address_over_its_rate_is_refused_until_the_next_second_of_the_given_clock()
    {
        var time = new ManualTime();
        var limiter = new ConnectionRateLimiter(2, time);

        var withinRate = limiter.TryAcquire(First) && limiter.TryAcquire(First);
        var overRate = limiter.TryAcquire(First);
        var otherAddress = limiter.TryAcquire(IPAddress.Parse("127.0.0.2"));
        time.Advance(TimeSpan.FromSeconds(1));
        var nextSecond = limiter.TryAcquire(First);

        Assert.True(withinRate);
        Assert.False(overRate);
        Assert.True(otherAddress); // addresses are counted apart
        Assert.True(nextSecond); // a second passed on the limiter's clock, however little on the machine's
    }

    [Fact]
    public void Addresses_quiet_for_a_while_are_swept_a_minute_on()
    {
        var time = new ManualTime();
        var limiter = new ConnectionRateLimiter(2, time);
        for (var i = 1; i <= 3; i++)
        {
            limiter.TryAcquire(IPAddress.Parse("127.0.0." + i));
        }

        time.Advance(TimeSpan.FromSeconds(59));
        limiter.TryAcquire(First);
        var beforeAMinute = limiter.TrackedAddresses;
        time.Advance(TimeSpan.FromSeconds(1));
        limiter.TryAcquire(IPAddress.Parse("127.0.0.9"));
        var afterAMinute = limiter.TrackedAddresses;

        Assert.Equal(3, beforeAMinute);
        Assert.Equal(2, afterAMinute); // 127.0.0.1 (used a second ago) and 127.0.0.9 stay; the quiet two went
    }
}
