using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Performance;

/// <summary>UDP ingress takes every queued datagram with one system call where it can: bursts must come out whole and in order.</summary>
public sealed class UdpBurstTests
{
    [Fact]
    public async Task A_burst_of_datagrams_is_routed_in_order_and_an_oversized_one_in_it_is_dropped_alone()
    {
        await using var server = await TestServer.StartAsync(o => o with { Node = o.Node with { MaxMessageSize = 4096, SendQueueLimit = 10_000 } });
        var client = await server.ConnectPlainAsync();
        const int count = 500;

        for (var i = 0; i < count; i++)
        {
            // Every 50th is too large: dropped and counted, the rest of its batch still routed.
            var pad = i % 50 == 25 ? new string('x', 5000) : "";
            await server.SendUdpAsync($$"""{"where":{},"data":"{{i}}{{pad}}"}""");
        }

        for (var i = 0; i < count; i++)
        {
            if (i % 50 != 25)
            {
                Assert.Equal(i.ToString(), await client.ReceiveAsync());
            }
        }
        await Timeouts.Until(() => server.Server.Udp.Received == count, "every datagram was handled");
        Assert.Equal(count / 50, server.Server.Udp.Dropped);
        Assert.Contains(server.Logs.WithEventId(2002), e => e.Message.Contains("max_message_size", StringComparison.Ordinal));
    }
}
