using System.Text;
using Herald.Core.Routing;
using Herald.Protocol;
using Herald.Server.Tests.Infrastructure;
using Herald.Server.Transports.WebSockets;

namespace Herald.Server.Tests.Performance;

/// <summary>Herald writes data frames itself (a burst in one write): they must be valid WebSocket frames, in order.</summary>
public sealed class WebSocketFramingTests
{
    [Fact]
    public async Task A_burst_of_frames_of_every_length_class_arrives_whole_and_in_order()
    {
        await using var server = await TestServer.StartAsync(o => o with { Node = o.Node with { SendQueueLimit = 10_000, SendQueueMaxBytes = 64 * 1024 * 1024 } });
        var plain = await server.ConnectPlainAsync();
        var native = await server.ConnectNativeAsync();
        // 7-bit, 16-bit and 64-bit payload lengths (RFC 6455 5.2), each around its boundary, many times over so that
        // frames queue up behind each other and go out in batches.
        int[] sizes = [1, 125, 126, 127, 65_535, 65_536, 70_000];
        var expected = new List<string>();
        for (var round = 0; round < 30; round++)
        {
            foreach (var size in sizes)
            {
                var data = $"{round}-{size}-" + new string('x', size);
                expected.Add(data);
                Publish(server, $$"""{"where":{},"data":"{{data}}"}""");
            }
        }

        foreach (var data in expected)
        {
            Assert.Equal(data, await plain.ReceiveAsync());
        }
        foreach (var data in expected)
        {
            var push = await native.ReceiveJsonAsync();
            Assert.Equal(data, push.GetProperty("data").GetString());
        }
    }

    [Fact]
    public async Task Native_clients_get_the_subprotocol_and_plain_ones_none()
    {
        await using var server = await TestServer.StartAsync();
        var native = await server.ConnectNativeAsync();
        var plain = await server.ConnectPlainAsync();

        Assert.Equal(ProtocolNames.SubprotocolV1, native.Socket.SubProtocol);
        Assert.True(string.IsNullOrEmpty(plain.Socket.SubProtocol));
    }

    [Fact]
    public void The_accept_key_is_the_one_of_the_RFC_example()
    {
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WebSocketHandshake.AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="));
    }

    [Theory]
    [InlineData(0, 2)]
    [InlineData(125, 2)]
    [InlineData(126, 4)]
    [InlineData(65_535, 4)]
    [InlineData(65_536, 10)]
    public void Frame_headers_use_the_shortest_length_encoding(int length, int header)
    {
        var destination = new byte[length + 10];

        var written = WebSocketFrames.WriteFrame(WebSocketFrames.OpText, new byte[length], destination);

        Assert.Equal(header + length, written);
        Assert.Equal(0x81, destination[0]);
    }

    private static void Publish(TestServer server, string json)
    {
        Assert.True(PublishRequestParser.TryParse(Encoding.UTF8.GetBytes(json), out var request, out _, out var error), error);
        var result = server.Node.PublishAsync(request).AsTask().GetAwaiter().GetResult();
        Assert.Equal(2, result.Recipients);
    }
}
