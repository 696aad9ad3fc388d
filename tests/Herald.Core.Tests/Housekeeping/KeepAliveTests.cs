using Herald.Core.Connections;
using Herald.Protocol;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Core.Tests.Housekeeping;

public sealed class KeepAliveTests
{
    /// <summary>Lets <paramref name="span"/> pass as the node's timer does: a sweep every 500 ms.</summary>
    private static void Pass(Node node, ManualTime time, TimeSpan span)
    {
        for (var passed = TimeSpan.Zero; passed < span; passed += TimeSpan.FromMilliseconds(500))
        {
            time.Advance(TimeSpan.FromMilliseconds(500));
            node.Tick();
        }
    }

    private static readonly NodeOptions Options = new()
    {
        PingInterval = TimeSpan.FromSeconds(10),
        PongTimeout = TimeSpan.FromSeconds(5),
        ConnectTimeout = TimeSpan.FromSeconds(3),
        CloseTimeout = TimeSpan.FromSeconds(2),
    };

    [Fact]
    public void Native_clients_are_pinged_each_interval_and_kept_while_they_answer()
    {
        var time = new ManualTime();
        using var node = new Node(Options, NullLogger<Node>.Instance, time: time);
        var (connection, transport) = node.Native();

        for (var i = 0; i < 3; i++)
        {
            time.Advance(TimeSpan.FromSeconds(10));
            node.Tick();
            Assert.Equal("""{"push":"ping"}""", transport.Texts.Last());
            node.Send(connection, """{"method":"pong"}""");
        }

        Assert.Equal(3, transport.Texts.Count(t => t == """{"push":"ping"}"""));
        Assert.Equal(ConnectionState.Ready, connection.State);
    }

    [Fact]
    public void Silent_native_clients_are_closed_as_stale()
    {
        var time = new ManualTime();
        using var node = new Node(Options, NullLogger<Node>.Instance, time: time);
        var (connection, transport) = node.Native();

        Pass(node, time, TimeSpan.FromSeconds(15));
        Assert.Null(transport.CloseCode);
        Pass(node, time, TimeSpan.FromSeconds(1));

        Assert.Equal(DisconnectCodes.Stale, transport.CloseCode);
        Assert.Equal(ConnectionState.Closing, connection.State);
    }

    /// <summary>
    /// Linux's monotonic clock counts nanoseconds since boot. Scaled naively to TimeSpan ticks it overflowed after
    /// 922 s of uptime and stayed negative for the next 922 s: a CI machine up for 15 minutes kept a silent client
    /// for 13 minutes. Each uptime here lies in a different half of that 30-minute cycle.
    /// </summary>
    [Theory]
    [InlineData(60)]
    [InlineData(1_000)]
    [InlineData(1_500)]
    [InlineData(2_700)]
    [InlineData(400 * 86_400)]
    public void Silent_clients_are_closed_as_stale_whatever_the_machine_uptime(long uptimeSeconds)
    {
        var time = new ManualTime(frequency: 1_000_000_000, start: uptimeSeconds * 1_000_000_000);
        using var node = new Node(Options, NullLogger<Node>.Instance, time: time);
        var (answering, answeringTransport) = node.Native();
        var (silent, silentTransport) = node.Native();

        Pass(node, time, TimeSpan.FromSeconds(10));
        Assert.Contains("""{"push":"ping"}""", answeringTransport.Texts);
        node.Send(answering, """{"method":"pong"}""");
        Pass(node, time, TimeSpan.FromSeconds(6));

        Assert.Equal(DisconnectCodes.Stale, silentTransport.CloseCode);
        Assert.Equal(ConnectionState.Closing, silent.State);
        Assert.Null(answeringTransport.CloseCode);
        Assert.False(silentTransport.Aborted);
        Pass(node, time, TimeSpan.FromSeconds(3)); // the client never finishes the close: aborted after close_timeout (2 s)
        Assert.True(silentTransport.Aborted);
    }

    [Theory]
    [InlineData(1L, 1L)]
    [InlineData(10_000_000L, TimeSpan.TicksPerSecond)]
    [InlineData(1_000_000_000L, 100L)]
    [InlineData(1_000_000_000L, 1_000_000_000L * 3_600 * 24 * 365 * 200 + 999_999_999)]
    [InlineData(3_579_545L, 3_579_545L * 86_400 * 1_000 + 1)]
    public void Timestamps_convert_to_ticks_without_overflow(long frequency, long timestamp)
    {
        var expected = (long)((Int128)timestamp * TimeSpan.TicksPerSecond / frequency);

        Assert.Equal(expected, Herald.Core.Housekeeping.MonotonicClock.ToTicks(timestamp, frequency));
    }

    [Fact]
    public void After_a_sweep_that_ran_late_clients_get_one_pong_timeout_before_they_count_as_stale()
    {
        var time = new ManualTime();
        using var node = new Node(Options, NullLogger<Node>.Instance, time: time);
        var (answering, answeringTransport) = node.Native();
        var (silent, silentTransport) = node.Native();
        Pass(node, time, TimeSpan.FromSeconds(9));

        // The process stalls for 20 s: both have been silent for 29 s, past ping_interval + pong_timeout (15 s).
        time.Advance(TimeSpan.FromSeconds(20));
        node.Tick();
        Assert.Equal((ConnectionState.Ready, ConnectionState.Ready), (answering.State, silent.State));
        Assert.Equal("""{"push":"ping"}""", answeringTransport.Texts.Last());
        Assert.Equal("""{"push":"ping"}""", silentTransport.Texts.Last());
        node.Send(answering, """{"method":"pong"}""");
        Pass(node, time, TimeSpan.FromSeconds(4.5));
        Assert.Null(silentTransport.CloseCode);
        Pass(node, time, TimeSpan.FromSeconds(1));

        Assert.Equal(ConnectionState.Ready, answering.State);
        Assert.Equal(DisconnectCodes.Stale, silentTransport.CloseCode);
    }

    [Fact]
    public void Native_clients_that_never_connect_are_closed_after_the_connect_timeout()
    {
        var time = new ManualTime();
        using var node = new Node(Options, NullLogger<Node>.Instance, time: time);
        var transport = new RecordingTransport();
        node.Open(transport, ConnectionKind.Native, "127.0.0.1:7");

        time.Advance(TimeSpan.FromSeconds(2));
        node.Tick();
        Assert.Null(transport.CloseCode);
        time.Advance(TimeSpan.FromSeconds(2));
        node.Tick();

        Assert.Equal(DisconnectCodes.ConnectTimeout, transport.CloseCode);
    }

    [Fact]
    public void Closes_that_do_not_finish_in_time_are_aborted()
    {
        var time = new ManualTime();
        using var node = new Node(Options, NullLogger<Node>.Instance, time: time);
        var (connection, transport) = node.Native();

        connection.Disconnect(DisconnectCodes.ForceReconnect, "test");
        time.Advance(TimeSpan.FromSeconds(1));
        node.Tick();
        Assert.False(transport.Aborted);
        time.Advance(TimeSpan.FromSeconds(2));
        node.Tick();

        Assert.True(transport.Aborted);
    }
}
