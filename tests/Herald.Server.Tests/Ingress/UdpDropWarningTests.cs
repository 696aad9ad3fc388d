using System.Text;
using Herald.Core;
using Herald.Server.Ingress;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Server.Tests.Ingress;

/// <summary>Dropped datagrams are warned about at once, then summed up at most once per ten seconds of the server's clock.</summary>
public sealed class UdpDropWarningTests
{
    private const int UdpDropped = 2002;

    [Fact]
    public void The_first_drop_is_warned_at_once_and_later_ones_once_ten_seconds_passed_on_the_given_clock()
    {
        var time = new ManualTime();
        var logs = new CapturedLogs();
        using var node = new Node(new NodeOptions(), NullLogger<Node>.Instance, time: time);
        using var factory = new LoggerFactory([logs]);
        using var ingress = new UdpIngress(node, new HeraldServerOptions(), factory.CreateLogger<UdpIngress>(), time);
        var invalid = Encoding.UTF8.GetBytes("not json");

        ingress.Handle(invalid);
        var afterFirst = logs.WithEventId(UdpDropped).Count();
        time.Advance(TimeSpan.FromSeconds(9.9));
        ingress.Handle(invalid);
        ingress.Handle(invalid);
        var withinInterval = logs.WithEventId(UdpDropped).Count();
        time.Advance(TimeSpan.FromSeconds(0.1));
        ingress.Handle(invalid);
        var warnings = logs.WithEventId(UdpDropped).Select(e => e.Message).ToList();

        Assert.Equal(3 + 1, ingress.Dropped);
        Assert.Equal(1, afterFirst);
        Assert.Equal(1, withinInterval);
        Assert.Equal(2, warnings.Count); // ten seconds passed on the ingress's clock, however little on the machine's
        Assert.StartsWith("UDP ingress dropped 3 datagram(s) in the last 10s (total 4)", warnings[1], StringComparison.Ordinal);
    }
}
