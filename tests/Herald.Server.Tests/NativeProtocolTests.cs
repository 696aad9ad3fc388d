using System.Text.Json;
using Herald.Protocol;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests;

/// <summary>The herald.v1 protocol over a real WebSocket.</summary>
public sealed class NativeProtocolTests
{
    [Fact]
    public async Task Server_selects_the_herald_subprotocol_and_connect_returns_the_client_id()
    {
        await using var server = await TestServer.StartAsync();
        var client = await server.ConnectNativeAsync(connect: false);

        var reply = await TestServer.CallAsync(client, 1, "connect", """{"attrs":{"school_id":"2"}}""");

        Assert.Equal(ProtocolNames.SubprotocolV1, client.Socket.SubProtocol);
        var result = reply.GetProperty("result");
        Assert.True(server.Node.TryGetConnection(result.GetProperty("client").GetString()!, out var connection));
        Assert.True(connection.Attributes.TryGetValue("school_id", out var school) && school == "2");
        Assert.Equal(25, result.GetProperty("ping").GetInt32());
    }

    [Fact]
    public async Task Subscribers_receive_channel_publishes_from_udp_and_http_with_the_channel_name()
    {
        await using var server = await TestServer.StartAsync();
        var client = await server.ConnectNativeAsync();
        Assert.True((await TestServer.CallAsync(client, 2, "subscribe", """{"channel":"orders"}""")).TryGetProperty("result", out _));

        await server.SendUdpAsync("""{"channel":"orders","data":{"id":1}}""");
        var first = await client.ReceiveJsonAsync();
        var response = await server.PostApiAsync("publish", """{"channel":"orders","data":{"id":2}}""");

        Assert.Equal("pub", first.GetProperty("push").GetString());
        Assert.Equal("orders", first.GetProperty("channel").GetString());
        Assert.Equal(1, first.GetProperty("data").GetProperty("id").GetInt32());
        Assert.Equal(1, (await TestServer.JsonAsync(response)).GetProperty("recipients").GetInt32());
        Assert.Equal(2, (await client.ReceiveJsonAsync()).GetProperty("data").GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task Channel_plus_where_reaches_only_matching_subscribers_and_where_publishes_reach_native_clients()
    {
        await using var server = await TestServer.StartAsync();
        var match = await server.ConnectNativeAsync("""{"school_id":"2"}""");
        var other = await server.ConnectNativeAsync("""{"school_id":"3"}""");
        await TestServer.CallAsync(match, 2, "subscribe", """{"channel":"news"}""");
        await TestServer.CallAsync(other, 2, "subscribe", """{"channel":"news"}""");

        await server.SendUdpAsync("""{"channel":"news","where":{"school_id":"2"},"data":"for school 2"}""");
        await server.SendUdpAsync("""{"where":{"school_id":["2","3"]},"data":"everyone"}""");

        var first = await match.ReceiveJsonAsync();
        Assert.Equal("for school 2", first.GetProperty("data").GetString());
        var second = await match.ReceiveJsonAsync();
        Assert.False(second.TryGetProperty("channel", out _));
        Assert.Equal("everyone", second.GetProperty("data").GetString());
        Assert.Equal("everyone", (await other.ReceiveJsonAsync()).GetProperty("data").GetString());
    }

    [Fact]
    public async Task Plain_and_native_clients_both_receive_where_publishes()
    {
        await using var server = await TestServer.StartAsync();
        var plain = await server.ConnectPlainAsync("""{"role":"approver"}""");
        var native = await server.ConnectNativeAsync("""{"role":"approver"}""");

        await server.PostApiAsync("publish", """{"where":{"role":"approver"},"data":{"flow":7}}""");

        Assert.Equal("""{"flow":7}""", await plain.ReceiveAsync());
        Assert.Equal("""{"push":"pub","data":{"flow":7}}""", await native.ReceiveAsync());
    }

    [Fact]
    public async Task Unsubscribed_clients_stop_receiving()
    {
        await using var server = await TestServer.StartAsync();
        var client = await server.ConnectNativeAsync();
        await TestServer.CallAsync(client, 2, "subscribe", """{"channel":"a"}""");
        await TestServer.CallAsync(client, 3, "subscribe", """{"channel":"b"}""");
        await TestServer.CallAsync(client, 4, "unsubscribe", """{"channel":"a"}""");

        await server.SendUdpAsync("""{"channel":"a","data":"a"}""");
        await server.SendUdpAsync("""{"channel":"b","data":"b"}""");

        Assert.Equal("b", (await client.ReceiveJsonAsync()).GetProperty("data").GetString());
    }

    [Fact]
    public async Task Server_pings_and_a_client_that_answers_stays_connected()
    {
        await using var server = await TestServer.StartAsync(o => o with { Node = o.Node with { PingInterval = TimeSpan.FromSeconds(1), PongTimeout = TimeSpan.FromSeconds(1) } });
        var client = await server.ConnectNativeAsync();

        for (var i = 0; i < 3; i++)
        {
            var push = await client.ReceiveJsonAsync();
            Assert.Equal("ping", push.GetProperty("push").GetString());
            await client.SendAsync("""{"method":"pong"}""");
        }

        Assert.Equal(1, server.Node.ConnectionCount);
    }

    [Fact]
    public async Task A_client_that_does_not_answer_pings_is_closed_as_stale_and_leaves_presence()
    {
        await using var server = await TestServer.StartAsync(o => o with { Node = o.Node with { PingInterval = TimeSpan.FromSeconds(1), PongTimeout = TimeSpan.FromSeconds(1) } });
        var client = await server.ConnectNativeAsync();
        await TestServer.CallAsync(client, 2, "subscribe", """{"channel":"room"}""");
        Assert.Equal(1, (await server.Node.PresenceStatsAsync("room")).Connections);

        var disconnect = await client.ReceiveJsonUntilAsync(m => m.GetProperty("push").GetString() == "disconnect");

        Assert.Equal(DisconnectCodes.Stale, disconnect.GetProperty("code").GetInt32());
        Assert.True(disconnect.GetProperty("reconnect").GetBoolean());
        Assert.Equal(DisconnectCodes.Stale, await client.WaitForCloseAsync());
        await Timeouts.Until(() => server.Node.ConnectionCount == 0, "the stale connection is gone");
        Assert.Equal(0, (await server.Node.PresenceStatsAsync("room")).Connections);
    }

    [Fact]
    public async Task A_native_client_that_never_connects_is_closed_after_the_connect_timeout()
    {
        await using var server = await TestServer.StartAsync(o => o with { Node = o.Node with { ConnectTimeout = TimeSpan.FromSeconds(1) } });
        var client = await server.ConnectNativeAsync(connect: false);

        Assert.Equal(DisconnectCodes.ConnectTimeout, await client.WaitForCloseAsync());
    }

    [Fact]
    public async Task Errors_carry_the_command_id_and_a_stable_code()
    {
        await using var server = await TestServer.StartAsync();
        var client = await server.ConnectNativeAsync();

        var unknown = await TestServer.CallAsync(client, 5, "fly");
        var badChannel = await TestServer.CallAsync(client, 6, "subscribe", """{"channel":"has space"}""");
        var publish = await TestServer.CallAsync(client, 7, "publish", """{"channel":"x","data":1}""");

        Assert.Equal(ErrorCodes.UnknownMethod, Code(unknown));
        Assert.Equal(ErrorCodes.InvalidChannel, Code(badChannel));
        Assert.Equal(ErrorCodes.PermissionDenied, Code(publish));
    }

    private static int Code(JsonElement reply) => reply.GetProperty("error").GetProperty("code").GetInt32();
}
