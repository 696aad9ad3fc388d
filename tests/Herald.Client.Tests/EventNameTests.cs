using System.Net;
using Herald.Client;
using Herald.Core.Auth;

namespace Herald.Client.Tests;

/// <summary>The event name a publish gives reaches the app on every publication and inbox entry the client hands over.</summary>
public sealed class EventNameTests
{
    private const string Secret = "client-event-tests-secret-0123456789abcdef";

    private static Task<TestServer> StartAsync() => TestServer.StartAsync(o => o with { Token = new TokenOptions { Secret = Secret } });

    private static HeraldClient Client(TestServer server, string user) => new(new HeraldClientOptions
    {
        Url = server.WebSocketUri,
        GetToken = _ => ValueTask.FromResult<string?>(HeraldTokens.Connection(Secret, user, TimeSpan.FromHours(1))),
        MinReconnectDelay = TimeSpan.FromMilliseconds(50),
    });

    private static HeraldPublisher Publisher(TestServer server) => new(server.Http.BaseAddress!, udp: new IPEndPoint(IPAddress.Loopback, server.UdpPort));

    private static async Task PublishAsync(TestServer server, string body)
    {
        using var response = await server.PostApiAsync("publish", body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Live_and_recovered_publications_carry_the_event_and_others_none()
    {
        await using var server = await StartAsync();
        await using var client = Client(server, "42");
        using var publisher = Publisher(server);
        await client.ConnectAsync().DefaultTimeout();
        await client.SubscribeAsync("orders").DefaultTimeout();
        await using var publications = client.ReadPublicationsAsync().GetAsyncEnumerator();

        await PublishAsync(server, """{"channel":"orders","event":"order.created","data":1}""");
        await server.SendUdpAsync("""{"channel":"orders","data":2}""");
        var live = new List<Publication>();
        for (var i = 0; i < 2; i++)
        {
            Assert.True(await publications.MoveNextAsync().AsTask().DefaultTimeout());
            live.Add(publications.Current);
        }
        await publisher.DisconnectUserAsync("42", reconnect: true).DefaultTimeout();
        await Timeouts.Until(() => !client.IsConnected || client.Reconnects > 0, "the client noticed the disconnect");
        await PublishAsync(server, """{"channel":"orders","event":"App\\Events\\OrderPaid","data":3}""");
        await PublishAsync(server, """{"channel":"orders","data":4}""");
        await Timeouts.Until(() => client.Reconnects >= 1 && client.IsConnected, "the client reconnected");
        await PublishAsync(server, """{"channel":"orders","event":"order.closed","data":5}""");
        var later = new List<Publication>();
        while (later.Count < 3)
        {
            Assert.True(await publications.MoveNextAsync().AsTask().DefaultTimeout());
            later.Add(publications.Current);
        }

        Assert.Equal([("order.created", 1), (null, 2)], live.Select(p => (p.Event, p.Data.GetInt32())));
        Assert.Equal([("App\\Events\\OrderPaid", 3), (null, 4), ("order.closed", 5)], later.Select(p => (p.Event, p.Data.GetInt32())));
        Assert.Equal([3UL, 4, 5], later.Select(p => p.Offset));
    }

    [Fact]
    public async Task Inbox_entries_carry_the_event_from_the_connect_reply_and_live()
    {
        await using var server = await StartAsync();
        await PublishAsync(server, """{"user":"7","event":"approval.asked","data":1}""");
        await PublishAsync(server, """{"user":"7","data":2}""");
        await using var client = Client(server, "7");
        await client.ConnectAsync().DefaultTimeout();
        await using var inbox = client.ReadInboxAsync().GetAsyncEnumerator();
        await server.SendUdpAsync("""{"user":"7","event":"approval.given","data":3}""");

        var entries = new List<InboxEntry>();
        while (entries.Count < 3)
        {
            Assert.True(await inbox.MoveNextAsync().AsTask().DefaultTimeout());
            entries.Add(inbox.Current);
        }
        Assert.Equal([("approval.asked", 1UL), (null, 2), ("approval.given", 3)], entries.Select(e => (e.Event, e.Offset)));
    }
}
