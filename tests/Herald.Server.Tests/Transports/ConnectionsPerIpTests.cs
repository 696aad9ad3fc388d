using System.Net;
using Herald.Protocol;
using Herald.Server.Tests.Infrastructure;
using Herald.Server.Transports;

namespace Herald.Server.Tests.Transports;

/// <summary>
/// max_connections_per_ip caps the WebSockets one address holds open at once, on the direct path and on Kestrel's alike
/// (one count for both), answers a refused upgrade with 429 and error 108, gives a place back when a WebSocket ends,
/// and does not count addresses in trusted_proxies.
/// </summary>
public sealed class ConnectionsPerIpTests
{
    /// <summary>Padding that sends an upgrade past the direct listener to Kestrel (its head is over 8 KiB).</summary>
    private static readonly string KestrelPadding = "X-Padding: " + new string('p', 9000) + "\r\n";

    [Fact]
    public async Task Open_connections_from_one_address_stop_at_the_cap_on_both_paths_and_free_their_place_on_close()
    {
        await using var server = await TestServer.StartAsync(o => o with { MaxConnectionsPerIp = 3, TrustedProxies = [] });
        var direct = await server.ConnectPlainAsync();
        var native = await server.ConnectNativeAsync();
        await using var kestrel = await RawHttpConnection.OpenAsync(server);
        await kestrel.SendAsync(RawHttpConnection.UpgradeHead(extra: KestrelPadding));
        Assert.StartsWith("HTTP/1.1 101 ", await kestrel.ReadHeadAsync());

        var refusedDirect = await RefusedAsync(server, "");
        var refusedKestrel = await RefusedAsync(server, KestrelPadding);
        await direct.Socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "", CancellationToken.None).DefaultTimeout();
        await Timeouts.Until(() => server.Node.ConnectionCount == 2, "the closed connection is gone");
        var again = await server.ConnectPlainAsync("""{"g":"1"}""");
        var refusedAgain = await RefusedAsync(server, "");

        foreach (var (head, body) in new[] { refusedDirect, refusedKestrel, refusedAgain })
        {
            Assert.StartsWith("HTTP/1.1 429 ", head);
            Assert.Contains($"\"code\":{ErrorCodes.LimitExceeded}", body);
            Assert.Contains("max_connections_per_ip", body);
        }
        await server.SendUdpAsync("""{"where":{"g":"1"},"data":"still served"}""");
        Assert.Equal("still served", await again.ReceiveAsync());
        Assert.Equal(3, server.Node.ConnectionCount);
    }

    [Fact]
    public async Task Every_place_is_given_back_when_the_connections_end()
    {
        await using var server = await TestServer.StartAsync(o => o with { MaxConnectionsPerIp = 2, TrustedProxies = [] });
        for (var round = 0; round < 3; round++)
        {
            var a = await server.ConnectPlainAsync();
            await using var b = await RawHttpConnection.OpenAsync(server);
            await b.SendAsync(RawHttpConnection.UpgradeHead(extra: KestrelPadding));
            Assert.StartsWith("HTTP/1.1 101 ", await b.ReadHeadAsync());
            Assert.Equal(1, server.Server.CountedAddresses);
            await a.DisposeAsync();
            b.Reset();
            await Timeouts.Until(() => server.Node.ConnectionCount == 0 && server.Server.CountedAddresses == 0, $"round {round}: both places are free");
        }
    }

    [Fact]
    public async Task Trusted_addresses_are_not_capped()
    {
        await using var server = await TestServer.StartAsync(o => o with { MaxConnectionsPerIp = 1, TrustedProxies = ["127.0.0.0/8", "::1"] });

        for (var i = 0; i < 4; i++)
        {
            await server.ConnectPlainAsync();
        }

        await Timeouts.Until(() => server.Node.ConnectionCount == 4, "all four are open");
        Assert.Equal(0, server.Server.CountedAddresses);
    }

    [Fact]
    public void The_table_holds_only_addresses_with_connections_and_treats_mapped_ipv4_as_ipv4()
    {
        var open = new ConnectionsPerAddress(2, ["10.0.0.0/8"]);
        var client = IPAddress.Parse("192.0.2.7");

        Assert.True(open.TryAcquire(client));
        Assert.True(open.TryAcquire(client.MapToIPv6()));
        Assert.False(open.TryAcquire(client));
        Assert.True(open.TryAcquire(IPAddress.Parse("10.1.2.3")));
        Assert.True(open.TryAcquire(IPAddress.Parse("10.1.2.3")));
        Assert.True(open.TryAcquire(IPAddress.Parse("10.1.2.3")));
        Assert.True(open.TryAcquire(IPAddress.Parse("2001:db8::1")));
        Assert.Equal(2, open.AddressCount);
        open.Release(client);
        Assert.True(open.TryAcquire(client));
        open.Release(client);
        open.Release(client.MapToIPv6());
        open.Release(IPAddress.Parse("2001:db8::1"));
        Assert.Equal(0, open.AddressCount);
        Assert.True(new ConnectionsPerAddress(0, []).TryAcquire(client), "0 turns the cap off");
    }

    private static async Task<(string Head, string Body)> RefusedAsync(TestServer server, string extra)
    {
        await using var raw = await RawHttpConnection.OpenAsync(server);
        await raw.SendAsync(RawHttpConnection.UpgradeHead(extra: extra));
        return await raw.ReadResponseAsync();
    }
}
