using System.Net;
using System.Net.WebSockets;
using System.Text;
using Herald.Protocol;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests;

/// <summary>Bad input never crashes the server and never affects other connections.</summary>
public sealed class BadInputTests
{
    private const string Everyone = """{"where":{},"data":"still here"}""";

    [Theory]
    [InlineData("not json", ErrorCodes.BadRequest)]
    [InlineData("[1,2,3]", ErrorCodes.InvalidAttributes)]
    [InlineData("\"a string\"", ErrorCodes.InvalidAttributes)]
    [InlineData("""{"nested":{"a":1}}""", ErrorCodes.InvalidAttributes)]
    public async Task Bad_plain_messages_get_an_error_frame_and_everyone_stays_connected(string message, int code)
    {
        await using var server = await TestServer.StartAsync();
        var bad = await server.ConnectPlainAsync("""{"school_id":"2"}""");
        var bystander = await server.ConnectPlainAsync("""{"school_id":"2"}""");

        await bad.SendAsync(message);
        var error = await bad.ReceiveJsonAsync();
        await server.SendUdpAsync("""{"where":{"school_id":"2"},"data":"still here"}""");

        Assert.Equal(code, error.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal("still here", await bad.ReceiveAsync());
        Assert.Equal("still here", await bystander.ReceiveAsync());
    }

    [Fact]
    public async Task Binary_frames_get_an_error_and_the_connection_stays()
    {
        await using var server = await TestServer.StartAsync();
        var plain = await server.ConnectPlainAsync();
        var native = await server.ConnectNativeAsync();

        await plain.SendAsync([1, 2, 3], WebSocketMessageType.Binary);
        await native.SendAsync([1, 2, 3], WebSocketMessageType.Binary);

        Assert.Equal(ErrorCodes.BadRequest, (await plain.ReceiveJsonAsync()).GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(ErrorCodes.BadRequest, (await native.ReceiveJsonAsync()).GetProperty("error").GetProperty("code").GetInt32());
        await server.SendUdpAsync(Everyone);
        Assert.Equal("still here", await plain.ReceiveAsync());
    }

    [Fact]
    public async Task Oversized_frames_close_only_the_sender_with_4501()
    {
        await using var server = await TestServer.StartAsync(o => o with { Node = o.Node with { MaxMessageSize = 1024 } });
        var plainSender = await server.ConnectPlainAsync();
        var nativeSender = await server.ConnectNativeAsync();
        var bystander = await server.ConnectPlainAsync();

        await plainSender.SendAsync("{\"a\":\"" + new string('x', 2000) + "\"}");
        await nativeSender.SendAsync("{\"id\":9,\"method\":\"ping\",\"params\":{\"pad\":\"" + new string('x', 5000) + "\"}}");

        Assert.Equal(DisconnectCodes.MessageTooLarge, await plainSender.WaitForCloseAsync());
        var push = await nativeSender.ReceiveJsonAsync();
        Assert.Equal(DisconnectCodes.MessageTooLarge, push.GetProperty("code").GetInt32());
        Assert.False(push.GetProperty("reconnect").GetBoolean());
        Assert.Equal(DisconnectCodes.MessageTooLarge, await nativeSender.WaitForCloseAsync());
        await server.SendUdpAsync(Everyone);
        Assert.Equal("still here", await bystander.ReceiveAsync());
    }

    [Fact]
    public async Task A_message_just_under_the_limit_is_accepted()
    {
        await using var server = await TestServer.StartAsync(o => o with { Node = o.Node with { MaxMessageSize = 1024 } });
        var client = await server.ConnectPlainAsync();
        var attributes = "{\"a\":\"" + new string('x', 1000) + "\"}";
        Assert.True(Encoding.UTF8.GetByteCount(attributes) <= 1024);

        await TestServer.SetPlainAttributesAsync(client, attributes);

        Assert.Equal(1, server.Node.ConnectionCount);
    }

    [Theory]
    [InlineData("{\"where\":")]
    [InlineData("""{"data":1}""")]
    [InlineData("""{"where":{"a":{"b":1}},"data":1}""")]
    [InlineData("""[1]""")]
    [InlineData("\u0001\u0002")]
    public async Task Bad_udp_datagrams_are_dropped_counted_and_warned_about_and_delivery_goes_on(string datagram)
    {
        await using var server = await TestServer.StartAsync();
        var client = await server.ConnectPlainAsync();

        await server.SendUdpAndWaitAsync(datagram);
        await server.SendUdpAsync(Everyone);

        Assert.Equal("still here", await client.ReceiveAsync());
        Assert.Equal(1, server.Server.Udp.Dropped);
        Assert.Single(server.Logs.WithEventId(2002));
    }

    [Fact]
    public async Task Oversized_udp_datagrams_are_dropped()
    {
        await using var server = await TestServer.StartAsync(o => o with { Node = o.Node with { MaxMessageSize = 1024 } });
        var client = await server.ConnectPlainAsync();

        await server.SendUdpAndWaitAsync("{\"where\":{},\"data\":\"" + new string('x', 3000) + "\"}");
        await server.SendUdpAsync(Everyone);

        Assert.Equal("still here", await client.ReceiveAsync());
        Assert.Equal(1, server.Server.Udp.Dropped);
    }

    [Fact]
    public async Task Udp_drop_warnings_are_rate_limited()
    {
        await using var server = await TestServer.StartAsync();

        for (var i = 0; i < 50; i++)
        {
            await server.SendUdpAsync("garbage");
        }
        await Timeouts.Until(() => server.Server.Udp.Dropped == 50, "all 50 were dropped");

        Assert.Single(server.Logs.WithEventId(2002));
    }

    [Theory]
    [InlineData("not json", HttpStatusCode.BadRequest, ErrorCodes.BadRequest)]
    [InlineData("""{"data":1}""", HttpStatusCode.BadRequest, ErrorCodes.NoTarget)]
    [InlineData("""{"channel":"a b","data":1}""", HttpStatusCode.BadRequest, ErrorCodes.InvalidChannel)]
    [InlineData("""{"where":{}}""", HttpStatusCode.BadRequest, ErrorCodes.BadRequest)]
    public async Task Bad_http_publishes_get_400_with_a_json_error(string body, HttpStatusCode status, int code)
    {
        await using var server = await TestServer.StartAsync();

        var response = await server.PostApiAsync("publish", body);

        Assert.Equal(status, response.StatusCode);
        var error = (await TestServer.JsonAsync(response)).GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetInt32());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task Oversized_http_bodies_get_413()
    {
        await using var server = await TestServer.StartAsync(o => o with { Node = o.Node with { MaxMessageSize = 1024 } });

        var response = await server.PostApiAsync("publish", "{\"where\":{},\"data\":\"" + new string('x', 3000) + "\"}");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(ErrorCodes.MessageTooLarge, (await TestServer.JsonAsync(response)).GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Oversized_chunked_http_bodies_get_413_too()
    {
        await using var server = await TestServer.StartAsync(o => o with { Node = o.Node with { MaxMessageSize = 1024 } });
        using var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("{\"where\":{},\"data\":\"" + new string('x', 3000) + "\"}")));
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/publish") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        var response = await server.Http.SendAsync(request).DefaultTimeout();

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }
}
