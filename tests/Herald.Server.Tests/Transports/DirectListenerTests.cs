using System.Net.WebSockets;
using Herald.Protocol;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Transports;

/// <summary>
/// Clean WebSocket upgrades are answered on the raw connection by the direct listener, before Kestrel's HTTP layer;
/// everything else still reaches Kestrel untouched. Event 2040 marks a WebSocket upgraded on the direct path.
/// </summary>
public sealed class DirectListenerTests
{
    private const int DirectUpgradeEvent = 2040;

    [Fact]
    public async Task Plain_and_native_clients_are_upgraded_on_the_direct_path()
    {
        await using var server = await TestServer.StartAsync();

        var plain = await server.ConnectPlainAsync("""{"g":"1"}""");
        var native = await server.ConnectNativeAsync();
        await server.SendUdpAsync("""{"where":{"g":"1"},"data":"hi"}""");

        Assert.Equal("hi", await plain.ReceiveAsync());
        Assert.Equal(ProtocolNames.SubprotocolV1, native.Socket.SubProtocol);
        Assert.Null(plain.Socket.SubProtocol);
        Assert.Equal(2, server.Logs.WithEventId(DirectUpgradeEvent).Count());
    }

    [Fact]
    public async Task An_upgrade_sent_one_byte_per_segment_is_answered_and_runs()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await RawHttpConnection.OpenAsync(server);
        const string key = "x3JJHMbDL1EzLkh9GBhXDw==";

        await raw.SendByteByByteAsync(RawHttpConnection.UpgradeHead("/some/path?x=1", key));
        var head = await raw.ReadHeadAsync();
        await raw.SendTextFrameAsync("ping");
        var pong = await raw.ReadFrameAsync();

        Assert.StartsWith("HTTP/1.1 101 ", head);
        Assert.Contains("Sec-WebSocket-Accept: " + RawHttpConnection.ExpectedAccept(key), head);
        Assert.Equal((1, "pong"), pong);
        Assert.Single(server.Logs.WithEventId(DirectUpgradeEvent));
    }

    [Fact]
    public async Task Frames_sent_in_the_same_segment_as_the_head_are_not_lost()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await RawHttpConnection.OpenAsync(server);
        var head = System.Text.Encoding.ASCII.GetBytes(RawHttpConnection.UpgradeHead());

        await raw.SendAsync([.. head, .. RawHttpConnection.MaskedTextFrame("ping")]);

        Assert.StartsWith("HTTP/1.1 101 ", await raw.ReadHeadAsync());
        Assert.Equal((1, "pong"), await raw.ReadFrameAsync());
    }

    [Fact]
    public async Task A_head_over_8_KiB_goes_to_Kestrel_which_still_upgrades_it()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await RawHttpConnection.OpenAsync(server);

        await raw.SendAsync(RawHttpConnection.UpgradeHead(extra: "X-Padding: " + new string('p', 9000) + "\r\n"));
        var head = await raw.ReadHeadAsync();
        await raw.SendTextFrameAsync("ping");

        Assert.StartsWith("HTTP/1.1 101 ", head);
        Assert.Equal((1, "pong"), await raw.ReadFrameAsync());
        Assert.Empty(server.Logs.WithEventId(DirectUpgradeEvent));
    }

    [Fact]
    public async Task A_head_over_Kestrels_limit_is_answered_431()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await RawHttpConnection.OpenAsync(server);

        await raw.SendAsync(RawHttpConnection.UpgradeHead(extra: "X-Padding: " + new string('p', 40_000) + "\r\n"));
        var (head, _) = await raw.ReadResponseAsync();

        Assert.StartsWith("HTTP/1.1 431 ", head);
        Assert.Empty(server.Logs.WithEventId(DirectUpgradeEvent));
    }

    [Theory]
    [InlineData("abc")] // not 16 bytes of base64
    [InlineData("dGhlIHNhbXBsZSBub25jZQ")] // padding missing
    [InlineData("dGhlIHNhbXBsZSBub25jZSEh")] // 18 bytes
    public async Task A_bad_key_is_not_upgraded(string key)
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await RawHttpConnection.OpenAsync(server);

        await raw.SendAsync(RawHttpConnection.UpgradeHead(key: key));
        var (head, _) = await raw.ReadResponseAsync();

        Assert.DoesNotContain("101", head.Split("\r\n")[0]);
        Assert.Empty(server.Logs.WithEventId(DirectUpgradeEvent));
        Assert.Equal(0, server.Node.ConnectionCount);
    }

    [Fact]
    public async Task A_plain_get_is_served_by_Kestrel()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await RawHttpConnection.OpenAsync(server);

        await raw.SendByteByByteAsync("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        var (head, body) = await raw.ReadResponseAsync();

        Assert.StartsWith("HTTP/1.1 200 ", head);
        Assert.StartsWith("Herald ", body);
        Assert.Empty(server.Logs.WithEventId(DirectUpgradeEvent));
    }

    [Fact]
    public async Task Pipelined_requests_are_all_answered_in_order()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await RawHttpConnection.OpenAsync(server);

        await raw.SendAsync("GET /health HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\nGET /health HTTP/1.1\r\nHost: a\r\n\r\n");
        var first = await raw.ReadResponseAsync();
        var second = await raw.ReadResponseAsync();
        var third = await raw.ReadResponseAsync();

        Assert.Contains("\"status\":\"ok\"", first.Body);
        Assert.StartsWith("Herald ", second.Body);
        Assert.Contains("\"status\":\"ok\"", third.Body);
    }

    [Fact]
    public async Task Api_posts_with_keep_alive_pass_through_after_the_peek()
    {
        await using var server = await TestServer.StartAsync();
        var plain = await server.ConnectPlainAsync("""{"g":"1"}""");
        await using var raw = await RawHttpConnection.OpenAsync(server);
        const string body = """{"where":{"g":"1"},"data":"via http"}""";
        var request = $"POST /api/publish HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n{body}";

        await raw.SendByteByByteAsync(request);
        var first = await raw.ReadResponseAsync();
        await raw.SendAsync(request);
        var second = await raw.ReadResponseAsync();

        Assert.StartsWith("HTTP/1.1 200 ", first.Head);
        Assert.StartsWith("HTTP/1.1 200 ", second.Head);
        Assert.Equal("via http", await plain.ReceiveAsync());
        Assert.Equal("via http", await plain.ReceiveAsync());
    }

    [Fact]
    public async Task An_upgrade_under_api_stays_with_the_http_api()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await RawHttpConnection.OpenAsync(server);

        await raw.SendAsync(RawHttpConnection.UpgradeHead("/api/publish"));
        var (head, _) = await raw.ReadResponseAsync();

        Assert.DoesNotContain("101", head.Split("\r\n")[0]);
        Assert.Empty(server.Logs.WithEventId(DirectUpgradeEvent));
    }

    [Fact]
    public async Task A_refused_origin_gets_403_with_the_error_body_on_the_direct_path()
    {
        await using var server = await TestServer.StartAsync(o => o with { AllowedOrigins = ["https://app.example.com"] });
        await using var raw = await RawHttpConnection.OpenAsync(server);

        await raw.SendAsync(RawHttpConnection.UpgradeHead(extra: "Origin: https://evil.example.com\r\n"));
        var (head, body) = await raw.ReadResponseAsync();

        Assert.StartsWith("HTTP/1.1 403 ", head);
        Assert.Contains($"\"code\":{ErrorCodes.PermissionDenied}", body);
        Assert.True(await raw.ReadToEndAsync());
    }

    [Fact]
    public async Task A_reset_in_the_middle_of_a_head_is_no_error_and_the_next_client_is_served()
    {
        await using var server = await TestServer.StartAsync();
        await using (var broken = await RawHttpConnection.OpenAsync(server))
        {
            await broken.SendAsync("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr");
            broken.Reset();
        }

        var client = await server.ConnectPlainAsync("""{"g":"1"}""");

        Assert.Equal(WebSocketState.Open, client.Socket.State);
    }

    [Fact]
    public async Task A_client_close_completes_the_handshake_on_the_direct_path()
    {
        await using var server = await TestServer.StartAsync();
        var client = await server.ConnectPlainAsync();

        await client.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None).DefaultTimeout();
        await Timeouts.Until(() => server.Node.ConnectionCount == 0, "the server closed the connection");

        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
    }
}
