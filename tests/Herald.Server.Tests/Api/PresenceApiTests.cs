using System.Net.WebSockets;
using System.Text.Json;
using Herald.Core.Auth;
using Herald.Protocol;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Api;

/// <summary>Presence, online state and backend control over the HTTP API with real clients.</summary>
public sealed class PresenceApiTests
{
    private const string Secret = "presence-api-secret-0123456789abcdef";

    private static Task<TestServer> StartAsync() => TestServer.StartAsync(o => o with { Token = new TokenOptions { Secret = Secret } });

    private static async Task<WsClient> UserAsync(TestServer server, string user, string? channel = null)
    {
        var client = await server.ConnectNativeAsync(connect: false);
        var reply = await TestServer.CallAsync(client, 1, "connect", "{\"token\":\"" + TokenIssuer.Create(Secret, user, TimeSpan.FromHours(1)) + "\"}");
        Assert.True(reply.TryGetProperty("result", out _), reply.ToString());
        if (channel is not null)
        {
            await TestServer.CallAsync(client, 2, "subscribe", "{\"channel\":\"" + channel + "\"}");
        }
        return client;
    }

    private static async Task<JsonElement> Api(TestServer server, string method, string body) =>
        await TestServer.JsonAsync(await server.PostApiAsync(method, body));

    [Fact]
    public async Task Online_says_which_users_are_connected_and_with_how_many_connections()
    {
        await using var server = await StartAsync();
        await UserAsync(server, "42");
        await UserAsync(server, "42");
        await UserAsync(server, "7");

        var online = await Api(server, "online", """{"users":["42","7","99"]}""");

        Assert.Equal(2, online.GetProperty("users").GetProperty("42").GetProperty("connections").GetInt32());
        Assert.True(online.GetProperty("users").GetProperty("7").GetProperty("online").GetBoolean());
        Assert.False(online.GetProperty("users").GetProperty("99").GetProperty("online").GetBoolean());
        Assert.Equal(3, online.GetProperty("total_connections").GetInt32());
        Assert.Equal(2, online.GetProperty("total_users").GetInt32());
    }

    [Fact]
    public async Task Presence_stats_channels_and_count_answer_from_live_state()
    {
        await using var server = await StartAsync();
        await UserAsync(server, "1", "order-1001");
        await UserAsync(server, "2", "order-1001");
        await UserAsync(server, "2", "order-1002");
        await server.ConnectPlainAsync("""{"school_id":"2"}""");
        await server.ConnectPlainAsync("""{"school_id":"3"}""");

        var stats = await Api(server, "presence_stats", """{"channel":"order-1001"}""");
        var presence = await Api(server, "presence", """{"channel":"order-1001","limit":1}""");
        var next = await Api(server, "presence", $$$"""{"channel":"order-1001","limit":1,"cursor":"{{{presence.GetProperty("cursor").GetString()}}}"}""");
        var channels = await Api(server, "channels", """{"prefix":"order-"}""");
        var count = await Api(server, "count", """{"where":{"school_id":"2"},"list":true}""");
        var everyone = await Api(server, "count", """{"where":{}}""");

        Assert.Equal(2, stats.GetProperty("connections").GetInt32());
        Assert.Equal(2, stats.GetProperty("users").GetInt32());
        Assert.Single(presence.GetProperty("members").EnumerateArray());
        Assert.Single(next.GetProperty("members").EnumerateArray());
        Assert.False(next.TryGetProperty("cursor", out _));
        Assert.Equal(["order-1001", "order-1002"], channels.GetProperty("channels").EnumerateArray().Select(c => c.GetProperty("channel").GetString()));
        Assert.False(channels.TryGetProperty("cursor", out _));
        var firstPage = await Api(server, "channels", """{"prefix":"order-","limit":1}""");
        Assert.Equal("order-1001", firstPage.GetProperty("cursor").GetString());
        var exactPage = await Api(server, "channels", """{"prefix":"order-","limit":2}""");
        Assert.False(exactPage.TryGetProperty("cursor", out _));
        Assert.Equal(1, count.GetProperty("connections").GetInt32());
        Assert.Equal("2", Assert.Single(count.GetProperty("clients").EnumerateArray().ToList()).GetProperty("attrs").GetProperty("school_id").GetString());
        Assert.Equal(5, everyone.GetProperty("connections").GetInt32());
    }

    [Fact]
    public async Task Disconnect_closes_a_users_sessions_with_the_code_and_reconnect_flag()
    {
        await using var server = await StartAsync();
        var phone = await UserAsync(server, "42");
        var laptop = await UserAsync(server, "42");
        var other = await UserAsync(server, "7");

        var reply = await Api(server, "disconnect", """{"user":"42","reason":"account locked","reconnect":false}""");

        Assert.Equal(2, reply.GetProperty("disconnected").GetInt32());
        var push = await phone.ReceiveJsonUntilAsync(m => m.TryGetProperty("push", out var p) && p.GetString() == "disconnect");
        Assert.False(push.GetProperty("reconnect").GetBoolean());
        Assert.Equal("account locked", push.GetProperty("reason").GetString());
        Assert.Equal(DisconnectCodes.ForceDisconnect, await phone.WaitForCloseAsync());
        Assert.Equal(DisconnectCodes.ForceDisconnect, await laptop.WaitForCloseAsync());
        Assert.True((await TestServer.CallAsync(other, 9, "ping")).TryGetProperty("result", out _));
    }

    [Fact]
    public async Task The_backend_subscribes_unsubscribes_and_sets_attributes_of_live_connections()
    {
        await using var server = await StartAsync();
        var device = await UserAsync(server, "42");

        var subscribed = await Api(server, "subscribe", """{"user":"42","channel":"approvals"}""");
        var push = await device.ReceiveJsonAsync();
        await server.PostApiAsync("publish", """{"channel":"approvals","data":"please approve"}""");
        var publication = await device.ReceiveJsonAsync();
        var attrs = await Api(server, "attributes", """{"user":"42","attrs":{"dept":"finance"}}""");
        await server.PostApiAsync("publish", """{"where":{"dept":"finance"},"data":"finance only"}""");
        var targeted = await device.ReceiveJsonAsync();
        await Api(server, "unsubscribe", """{"user":"42","channel":"approvals"}""");
        var unsubscribed = await device.ReceiveJsonAsync();

        Assert.Equal(1, subscribed.GetProperty("connections").GetInt32());
        Assert.Equal("""{"push":"subscribe","channel":"approvals"}""", push.GetRawText());
        Assert.Equal("please approve", publication.GetProperty("data").GetString());
        Assert.Equal(1, attrs.GetProperty("connections").GetInt32());
        Assert.Equal("finance only", targeted.GetProperty("data").GetString());
        Assert.Equal("unsubscribe", unsubscribed.GetProperty("push").GetString());
        Assert.Equal(0, (await Api(server, "presence_stats", """{"channel":"approvals"}""")).GetProperty("connections").GetInt32());
        var unknownNamespace = await server.PostApiAsync("subscribe", """{"user":"42","channel":"nope:1"}""");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, unknownNamespace.StatusCode);
        Assert.Equal(ErrorCodes.UnknownNamespace, (await TestServer.JsonAsync(unknownNamespace)).GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Churn_of_500_connections_joining_leaving_and_dying_leaves_exact_counts()
    {
        await using var server = await TestServer.StartAsync(o => o with
        {
            Token = new TokenOptions { Secret = Secret },
            Node = o.Node with { ClientMessageRate = 0 },
        });
        var random = new Random(1234);
        var clients = new List<(WsClient Client, string User, bool Alive)>();
        for (var i = 0; i < 500; i++)
        {
            var user = "u" + random.Next(0, 200);
            clients.Add((await UserAsync(server, user, "churn"), user, true));
        }
        // Leave in random order: a third unsubscribe, a third close cleanly, a third are killed without a close frame.
        var order = Enumerable.Range(0, 500).OrderBy(_ => random.Next()).ToList();
        for (var k = 0; k < 400; k++)
        {
            var i = order[k];
            var (client, user, _) = clients[i];
            switch (k % 3)
            {
                case 0:
                    await TestServer.CallAsync(client, 100, "unsubscribe", """{"channel":"churn"}""");
                    break;
                case 1:
                    await client.DisposeAsync();
                    clients[i] = (client, user, false);
                    break;
                default:
                    client.Socket.Abort(); // no close frame: the server must notice by itself
                    clients[i] = (client, user, false);
                    break;
            }
        }
        var remaining = order.Skip(400).Select(i => clients[i]).ToList();
        var expectedUsers = remaining.Select(c => c.User).Distinct().Count();

        await Timeouts.Until(() => server.Node.ConnectionCount == clients.Count(c => c.Alive), "closed and killed sockets are gone", TimeSpan.FromSeconds(20));
        var stats = await Api(server, "presence_stats", """{"channel":"churn"}""");
        var members = new List<string>();
        string? cursor = null;
        do
        {
            var page = await Api(server, "presence", cursor is null ? """{"channel":"churn","limit":37}""" : "{\"channel\":\"churn\",\"limit\":37,\"cursor\":\"" + cursor + "\"}");
            members.AddRange(page.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("client").GetString()!));
            cursor = page.TryGetProperty("cursor", out var c) ? c.GetString() : null;
        } while (cursor is not null);

        Assert.Equal(100, stats.GetProperty("connections").GetInt32());
        Assert.Equal(expectedUsers, stats.GetProperty("users").GetInt32());
        Assert.Equal(100, members.Distinct().Count());
        Assert.Equal(100, members.Count);
        foreach (var (client, _, alive) in clients.Where(c => c.Alive))
        {
            await client.DisposeAsync();
        }
    }
}
