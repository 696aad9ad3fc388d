using System.Net;
using System.Text.Json.Nodes;
using Herald.Client;
using Herald.Core.Auth;

namespace Herald.Client.Tests;

public sealed class HeraldClientTests
{
    private const string Secret = "client-tests-secret-0123456789abcdef";

    private static Task<TestServer> StartAsync() => TestServer.StartAsync(o => o with { Token = new TokenOptions { Secret = Secret } });

    private static HeraldClient Client(TestServer server, string user) => new(new HeraldClientOptions
    {
        Url = server.WebSocketUri,
        GetToken = _ => ValueTask.FromResult<string?>(HeraldTokens.Connection(Secret, user, TimeSpan.FromHours(1))),
        MinReconnectDelay = TimeSpan.FromMilliseconds(50),
    });

    private static HeraldPublisher Publisher(TestServer server, string? udpSecret = null) =>
        new(server.Http.BaseAddress!, udp: new IPEndPoint(IPAddress.Loopback, server.UdpPort), udpSecret: udpSecret);

    [Fact]
    public async Task A_subscriber_receives_publications_from_the_publisher_over_http_and_udp()
    {
        await using var server = await StartAsync();
        await using var client = Client(server, "42");
        using var publisher = Publisher(server);
        await client.ConnectAsync().DefaultTimeout();
        await client.SubscribeAsync("orders").DefaultTimeout();

        var reply = await publisher.PublishAsync(new JsonObject { ["order"] = 1 }, channel: "orders").DefaultTimeout();
        await publisher.SendUdpAsync(new JsonObject { ["order"] = 2 }, channel: "orders").DefaultTimeout();

        await using var publications = client.ReadPublicationsAsync().GetAsyncEnumerator();
        Assert.True(await publications.MoveNextAsync().AsTask().DefaultTimeout());
        Assert.Equal(1, publications.Current.Data.GetProperty("order").GetInt32());
        Assert.Equal(1UL, publications.Current.Offset);
        Assert.True(await publications.MoveNextAsync().AsTask().DefaultTimeout());
        Assert.Equal(2, publications.Current.Data.GetProperty("order").GetInt32());
        Assert.Equal(1, reply.GetProperty("recipients").GetInt32());
        Assert.Equal("42", client.UserId);
    }

    [Fact]
    public async Task After_the_server_drops_it_the_client_reconnects_and_recovers_what_it_missed()
    {
        await using var server = await StartAsync();
        await using var client = Client(server, "42");
        using var publisher = Publisher(server);
        await client.ConnectAsync().DefaultTimeout();
        await client.SubscribeAsync("orders").DefaultTimeout();
        await publisher.PublishAsync(1, channel: "orders").DefaultTimeout();
        await using var publications = client.ReadPublicationsAsync().GetAsyncEnumerator();
        Assert.True(await publications.MoveNextAsync().AsTask().DefaultTimeout());

        await publisher.DisconnectUserAsync("42", reconnect: true).DefaultTimeout();
        await Timeouts.Until(() => !client.IsConnected || client.Reconnects > 0, "the client noticed the disconnect");
        for (var i = 2; i <= 6; i++)
        {
            await publisher.PublishAsync(i, channel: "orders").DefaultTimeout(); // some while it is away
        }
        await Timeouts.Until(() => client.Reconnects >= 1 && client.IsConnected, "the client reconnected");
        await publisher.PublishAsync(7, channel: "orders").DefaultTimeout();

        var received = new List<(int Value, ulong Offset)>();
        while (received.Count < 6)
        {
            Assert.True(await publications.MoveNextAsync().AsTask().DefaultTimeout());
            received.Add((publications.Current.Data.GetInt32(), publications.Current.Offset));
        }
        Assert.Equal([2, 3, 4, 5, 6, 7], received.Select(r => r.Value));
        Assert.Equal([2UL, 3, 4, 5, 6, 7], received.Select(r => r.Offset));
    }

    [Fact]
    public async Task The_inbox_arrives_on_connect_and_acknowledged_entries_never_again()
    {
        await using var server = await StartAsync();
        using var publisher = Publisher(server);
        await publisher.PublishAsync("approve 1", user: "7").DefaultTimeout();
        await publisher.PublishAsync("approve 2", user: "7").DefaultTimeout();

        await using (var first = Client(server, "7"))
        {
            await first.ConnectAsync().DefaultTimeout();
            await using var inbox = first.ReadInboxAsync().GetAsyncEnumerator();
            Assert.True(await inbox.MoveNextAsync().AsTask().DefaultTimeout());
            Assert.True(await inbox.MoveNextAsync().AsTask().DefaultTimeout());
            Assert.Equal("approve 2", inbox.Current.Data.GetString());
            Assert.Equal(2UL, await first.AckInboxAsync(inbox.Current.Offset).DefaultTimeout());
        }

        await using var second = Client(server, "7");
        await second.ConnectAsync().DefaultTimeout();
        Assert.Equal(0, (await publisher.InboxAsync("7").DefaultTimeout()).GetProperty("publications").GetArrayLength());
    }

    [Fact]
    public async Task Signed_udp_publishes_are_accepted_and_history_and_presence_answer()
    {
        await using var server = await TestServer.StartAsync(o => o with { UdpSecret = "udp-secret", Token = new TokenOptions { Secret = Secret } });
        await using var client = Client(server, "1");
        using var publisher = Publisher(server, udpSecret: "udp-secret");
        await client.ConnectAsync().DefaultTimeout();
        await client.SubscribeAsync("room").DefaultTimeout();

        await publisher.SendUdpAsync("signed", channel: "room").DefaultTimeout();
        await using var publications = client.ReadPublicationsAsync().GetAsyncEnumerator();
        Assert.True(await publications.MoveNextAsync().AsTask().DefaultTimeout());
        var history = await publisher.HistoryAsync("room").DefaultTimeout();
        var stats = await client.PresenceStatsAsync("room").DefaultTimeout();
        var online = await publisher.OnlineAsync(["1", "2"]).DefaultTimeout();
        var presence = await publisher.PresenceAsync("room").DefaultTimeout();
        var batch = await publisher.PublishBatchAsync(
            [new JsonObject { ["channel"] = "room", ["data"] = "b1" }, new JsonObject { ["channel"] = "room", ["data"] = "b2" }]).DefaultTimeout();

        Assert.Equal("signed", publications.Current.Data.GetString());
        Assert.Equal("signed", history.GetProperty("publications")[0].GetProperty("data").GetString());
        Assert.Equal((1, 1), stats);
        Assert.True(online.GetProperty("users").GetProperty("1").GetProperty("online").GetBoolean());
        Assert.Equal(client.ClientId, presence.GetProperty("members")[0].GetProperty("client").GetString());
        Assert.Equal([2UL, 3UL], batch.Select(r => r.GetProperty("offset").GetUInt64()));
    }

    [Fact]
    public async Task Server_errors_surface_as_exceptions_with_the_stable_code()
    {
        await using var server = await StartAsync();
        await using var client = Client(server, "1");
        using var publisher = Publisher(server);
        await client.ConnectAsync().DefaultTimeout();

        var denied = await Assert.ThrowsAsync<HeraldException>(() => client.PublishAsync("orders", 1));
        var noTarget = await Assert.ThrowsAsync<HeraldException>(() => publisher.PublishAsync(1));

        Assert.Equal(Herald.Protocol.ErrorCodes.PermissionDenied, denied.Code);
        Assert.Equal(Herald.Protocol.ErrorCodes.NoTarget, noTarget.Code);
    }
}
