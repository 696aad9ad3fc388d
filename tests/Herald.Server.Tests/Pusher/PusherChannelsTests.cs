using Herald.Core.Control;
using System.Net;
using System.Text.Json;
using Herald.Core.Apps;
using Herald.Core.Auth;
using Herald.Protocol;
using Herald.Server.Tests.Cluster;

namespace Herald.Server.Tests.Pusher;

/// <summary>Channel queries and terminating a user's connections, with native subscribers of the default app.</summary>
public sealed class PusherChannelsTests
{
    private static async Task<JsonElement> GetJsonAsync(TestServer server, string path, IReadOnlyDictionary<string, string>? query = null, AppOptions? app = null)
    {
        using var response = await new PusherRequests(server, app ?? PusherTestServers.Main).GetAsync(path, query);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task Channels_lists_the_apps_occupied_channels_by_prefix_with_the_counts_asked_for()
    {
        await using var server = await PusherTestServers.StartAsync();
        await PusherTestServers.SubscriberAsync(server, "alice", "presence-room", "news");
        await PusherTestServers.SubscriberAsync(server, "alice", "presence-room");
        await PusherTestServers.SubscriberAsync(server, "bob", "presence-room", "presence-hall");
        var stray = await PusherTestServers.SubscriberAsync(server, "carol");
        await server.Node.ControlAsync(new SubscribeCommand(ControlTarget.User("carol"), "shop news")); // another app's channel

        var all = await GetJsonAsync(server, "/channels");
        var presence = await GetJsonAsync(server, "/channels", new Dictionary<string, string> { ["filter_by_prefix"] = "presence-", ["info"] = "user_count,subscription_count" });
        var counted = await GetJsonAsync(server, "/channels", new Dictionary<string, string> { ["info"] = "subscription_count" });
        var shop = await GetJsonAsync(server, "/channels", app: PusherTestServers.Shop);
        var blog = await GetJsonAsync(server, "/channels", app: PusherTestServers.Blog);

        Assert.Equal("""{"channels":{"news":{},"presence-hall":{},"presence-room":{}}}""", all.GetRawText());
        Assert.Equal("""{"channels":{"presence-hall":{"user_count":1,"subscription_count":1},"presence-room":{"user_count":2,"subscription_count":3}}}""", presence.GetRawText());
        Assert.Equal(1, counted.GetProperty("channels").GetProperty("news").GetProperty("subscription_count").GetInt32());
        Assert.Equal("""{"channels":{"news":{}}}""", shop.GetRawText());
        Assert.Equal("""{"channels":{}}""", blog.GetRawText());
        _ = stray;
    }

    [Fact]
    public async Task User_count_is_refused_unless_the_query_is_limited_to_presence_channels()
    {
        await using var server = await PusherTestServers.StartAsync();
        var main = new PusherRequests(server, PusherTestServers.Main);

        using var list = await main.GetAsync("/channels", new Dictionary<string, string> { ["info"] = "user_count" });
        using var one = await main.GetAsync("/channels/news", new Dictionary<string, string> { ["info"] = "user_count" });
        using var users = await main.GetAsync("/channels/news/users");
        using var badName = await main.GetAsync("/channels/a b");

        Assert.Equal(HttpStatusCode.BadRequest, list.StatusCode);
        Assert.Contains("only available for presence channels", await list.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, one.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, users.StatusCode);
        Assert.Contains("only listed for presence channels", await users.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);
    }

    [Fact]
    public async Task A_channel_says_whether_it_is_occupied_and_a_presence_channel_lists_each_user_once()
    {
        await using var server = await PusherTestServers.StartAsync();
        await PusherTestServers.SubscriberAsync(server, "alice", "presence-room");
        await PusherTestServers.SubscriberAsync(server, "alice", "presence-room");
        await PusherTestServers.SubscriberAsync(server, "bob", "presence-room");
        await PusherTestServers.SubscriberAsync(server, null, "presence-room"); // anonymous: a subscription, not a user

        var room = await GetJsonAsync(server, "/channels/presence-room", new Dictionary<string, string> { ["info"] = "user_count,subscription_count" });
        var plain = await GetJsonAsync(server, "/channels/presence-room");
        var empty = await GetJsonAsync(server, "/channels/presence-empty", new Dictionary<string, string> { ["info"] = "subscription_count" });
        var users = await GetJsonAsync(server, "/channels/presence-room/users");
        var otherApp = await GetJsonAsync(server, "/channels/presence-room", new Dictionary<string, string> { ["info"] = "subscription_count" }, PusherTestServers.Shop);

        Assert.Equal("""{"occupied":true,"user_count":2,"subscription_count":4}""", room.GetRawText());
        Assert.Equal("""{"occupied":true}""", plain.GetRawText());
        Assert.Equal("""{"occupied":false,"subscription_count":0}""", empty.GetRawText());
        Assert.Equal("""{"users":[{"id":"alice"},{"id":"bob"}]}""", users.GetRawText());
        Assert.Equal("""{"occupied":false,"subscription_count":0}""", otherApp.GetRawText());
    }

    [Fact]
    public async Task Terminate_closes_every_connection_of_the_user_with_4009_and_no_one_elses()
    {
        await using var server = await PusherTestServers.StartAsync();
        var alice1 = await PusherTestServers.SubscriberAsync(server, "alice", "news");
        var alice2 = await PusherTestServers.SubscriberAsync(server, "alice");
        var bob = await PusherTestServers.SubscriberAsync(server, "bob", "news");
        var shopAlice = await PusherTestServers.SubscriberAsync(server, "shop-alice");

        using var response = await new PusherRequests(server, PusherTestServers.Main).PostAsync("/users/alice/terminate_connections", "{}");
        using var otherApp = await new PusherRequests(server, PusherTestServers.Shop).PostAsync("/users/bob/terminate_connections", "{}");
        using var badUser = await new PusherRequests(server, PusherTestServers.Main).PostAsync("/users/a b/terminate_connections", "{}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{}", await response.Content.ReadAsStringAsync());
        Assert.Equal(DisconnectCodes.UserTerminated, await alice1.WaitForCloseAsync());
        Assert.Equal(DisconnectCodes.UserTerminated, await alice2.WaitForCloseAsync());
        Assert.Equal(HttpStatusCode.OK, otherApp.StatusCode); // the shop app's bob is not the default app's bob
        Assert.Equal(HttpStatusCode.BadRequest, badUser.StatusCode);
        var pong = await TestServer.CallAsync(bob, 20, "presence_stats", """{"channel":"news"}""");
        Assert.True(pong.TryGetProperty("result", out _), pong.ToString());
        Assert.Null(bob.CloseStatus);
        Assert.Null(shopAlice.CloseStatus);
    }
}

/// <summary>The counts and terminate across two nodes of a cluster on a real Redis.</summary>
[Collection(RedisClusterCollection.Name)]
public sealed class PusherClusterTests(RedisClusterFixture fixture)
{
    [Fact]
    public async Task Counts_users_and_terminate_reach_across_nodes()
    {
        var prefix = RedisClusterFixture.NewPrefix();
        var apps = new AppRegistry([PusherTestServers.Main, PusherTestServers.Shop], PusherTestServers.Main.Id);
        Task<TestServer> Node() => TestServer.StartAsync(o => o with
        {
            Redis = RedisClusterFixture.Engine(fixture.Redis.Address, prefix),
            Token = new TokenOptions { Secret = PusherTestServers.TokenSecret },
            Apps = apps,
        });
        await using var first = await Node();
        await using var second = await Node();
        var alice = await PusherTestServers.SubscriberAsync(second, "alice", "presence-room");
        await PusherTestServers.SubscriberAsync(second, "bob", "presence-room");
        await PusherTestServers.SubscriberAsync(first, "bob", "presence-room");
        var api = new PusherRequests(first, PusherTestServers.Main);

        using var info = await api.GetAsync("/channels/presence-room", new Dictionary<string, string> { ["info"] = "user_count,subscription_count" });
        using var users = await api.GetAsync("/channels/presence-room/users");
        using var trigger = await api.PostAsync("/events", """{"name":"e","channel":"presence-room","data":"across"}""");
        Assert.Equal("across", (await alice.ReceiveJsonUntilAsync(m => m.GetProperty("push").GetString() == "pub")).GetProperty("data").GetString());
        using var terminate = await api.PostAsync("/users/alice/terminate_connections", "{}");

        Assert.Equal("""{"occupied":true,"user_count":2,"subscription_count":3}""", await info.Content.ReadAsStringAsync());
        Assert.Equal("""{"users":[{"id":"alice"},{"id":"bob"}]}""", await users.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, terminate.StatusCode);
        Assert.Equal(DisconnectCodes.UserTerminated, await alice.WaitForCloseAsync());
    }
}
