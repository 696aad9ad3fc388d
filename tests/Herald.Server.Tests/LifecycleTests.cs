using System.Net.WebSockets;
using Herald.Protocol;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests;

public sealed class LifecycleTests
{
    [Fact]
    public async Task Graceful_shutdown_tells_native_clients_to_reconnect_and_closes_everyone()
    {
        var server = await TestServer.StartAsync();
        var native = await server.ConnectNativeAsync();
        var plain = await server.ConnectPlainAsync();

        var stop = server.Server.StopAsync();
        var push = await native.ReceiveJsonAsync();

        Assert.Equal("disconnect", push.GetProperty("push").GetString());
        Assert.Equal(DisconnectCodes.Shutdown, push.GetProperty("code").GetInt32());
        Assert.True(push.GetProperty("reconnect").GetBoolean());
        Assert.Equal(DisconnectCodes.Shutdown, await native.WaitForCloseAsync());
        Assert.Equal(DisconnectCodes.Shutdown, await plain.WaitForCloseAsync());
        await stop.DefaultTimeout();
        Assert.Equal(0, server.Node.ConnectionCount);
        await server.DisposeAsync();
    }

    [Fact]
    public async Task A_client_that_stops_reading_is_disconnected_as_slow_consumer_while_others_get_everything()
    {
        await using var server = await TestServer.StartAsync(o => o with { Node = o.Node with { SendQueueLimit = 16 } });
        using var slow = new ClientWebSocket();
        await slow.ConnectAsync(server.WebSocketUri, CancellationToken.None).DefaultTimeout();
        var healthy = await server.ConnectPlainAsync();
        await Timeouts.Until(() => server.Node.ConnectionCount == 2, "both connected");
        var payload = new string('x', 60_000);

        const int count = 400; // 24 MB: far more than loopback socket buffers hold for a client that never reads
        for (var i = 0; i < count; i++)
        {
            await server.PostApiAsync("publish", $$"""{"where":{},"data":"{{i}}-{{payload}}"}""");
        }

        for (var i = 0; i < count; i++)
        {
            Assert.StartsWith($"{i}-", await healthy.ReceiveAsync());
        }
        Assert.Equal(1, server.Node.Counters.SlowConsumers);
        Assert.Single(server.Logs.WithEventId(1003));
        await Timeouts.Until(() => server.Node.ConnectionCount == 1, "the slow client was dropped");
    }
}
