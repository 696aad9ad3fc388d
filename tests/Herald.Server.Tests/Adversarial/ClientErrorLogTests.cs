using System.Text;
using Herald.Server.Tests.Infrastructure;
using Herald.Server.Tests.Transports;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Tests.Adversarial;

/// <summary>
/// Clients repeating a mistake cannot fill the log: one line per kind of mistake and interval, no error level, no
/// stack trace. And a close without a code is logged as 1005.
/// </summary>
public sealed class ClientErrorLogTests
{
    [Fact]
    public async Task Twenty_clients_sending_lone_surrogates_over_every_ingress_write_a_few_debug_lines_and_no_error()
    {
        await using var server = await TestServer.StartAsync();
        var clients = new List<WsClient>();
        for (var i = 0; i < 10; i++)
        {
            clients.Add(await server.ConnectNativeAsync());
            clients.Add(await server.ConnectPlainAsync());
        }

        for (var round = 0; round < 20; round++)
        {
            foreach (var client in clients)
            {
                await client.SendAsync("""{"id":5,"method":"subscribe","params":{"channel":"\ud800"},"x":"\udfff"}""");
            }
            await server.PostApiAsync("publish", """{"channel":"ch","data":"\ud800"}""");
            await server.PostApiAsync("history", """{"channel":"\ud800"}""");
            await server.SendUdpAsync(Encoding.UTF8.GetBytes("""{"channel":"ch","data":"\ud800"}"""));
        }
        foreach (var client in clients)
        {
            for (var i = 0; i < 20; i++)
            {
                Assert.Equal(115, (await client.ReceiveJsonAsync()).GetProperty("error").GetProperty("code").GetInt32());
            }
        }
        await Timeouts.Until(() => server.Server.Udp.Received == 20, "every datagram was read");

        var entries = server.Logs.Entries;
        Assert.DoesNotContain(entries, e => e.Level >= LogLevel.Error || e.Exception is not null);
        Assert.Single(entries, e => e.EventId == 1005); // one per kind of mistake (error 115) per 10 s, not 400
        Assert.Equal(2, entries.Count(e => e.EventId == 2005)); // publish and history, once each
        Assert.Single(entries, e => e.EventId == 2002); // the UDP drop warning, once per 10 s
        Assert.True(entries.Sum(e => e.Message.Length) < 20_000, $"{entries.Sum(e => e.Message.Length)} characters logged");
    }

    [Fact]
    public async Task A_close_frame_without_a_code_is_logged_as_1005()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await RawHttpConnection.OpenAsync(server);
        await raw.SendAsync(RawHttpConnection.UpgradeHead());
        Assert.StartsWith("HTTP/1.1 101 ", await raw.ReadHeadAsync());

        // A browser's close() without arguments: a close frame with no payload.
        await raw.SendAsync(RawHttpConnection.ClientFrame(0x8, ReadOnlySpan<byte>.Empty));
        var answer = await raw.ReadServerFrameAsync();
        await Timeouts.Until(() => server.Logs.WithEventId(1002).Any(), "the close was logged");

        Assert.Equal(1000, answer.CloseCode); // 1005 itself may never be sent in a frame
        var closed = server.Logs.WithEventId(1002).Single().Message;
        Assert.True(closed.Contains("code 1005", StringComparison.Ordinal), closed);
    }
}
