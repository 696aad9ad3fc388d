using System.Net;
using System.Text.Json;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Cluster;

/// <summary>Several Herald nodes on one Redis behave as one server: delivery, order, recovery, presence, online, control.</summary>
[Collection(RedisClusterCollection.Name)]
public sealed class ClusterTests(RedisClusterFixture fixture)
{
    private static async Task<WsClient> NativeAsync(TestServer node, string? user = null, string? extra = null)
    {
        var client = await node.ConnectNativeAsync(connect: false);
        var parameters = user is null ? extra ?? "{}" : $$"""{"token":"{{RedisClusterFixture.Token(user)}}"{{(extra is null ? "" : "," + extra)}}}""";
        var reply = await TestServer.CallAsync(client, 1, "connect", parameters);
        Assert.True(reply.TryGetProperty("result", out _), reply.ToString());
        return client;
    }

    private static async Task<JsonElement> SubscribeAsync(WsClient client, string channel, ulong id = 2, string? since = null)
    {
        var reply = await TestServer.CallAsync(client, id, "subscribe",
            since is null ? $$"""{"channel":"{{channel}}"}""" : $$"""{"channel":"{{channel}}","since":{{since}}}""");
        Assert.True(reply.TryGetProperty("result", out var result), reply.ToString());
        return result;
    }

    private static async Task<JsonElement> PublishAsync(TestServer node, string body)
    {
        using var response = await node.PostApiAsync("publish", body);
        var json = await TestServer.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, json.ToString());
        return json;
    }

    private static async Task<JsonElement> ApiAsync(TestServer node, string method, string body)
    {
        using var response = await node.PostApiAsync(method, body);
        var json = await TestServer.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, json.ToString());
        return json;
    }

    private static Task<JsonElement> NextPublicationAsync(WsClient client) =>
        client.ReceiveJsonUntilAsync(m => m.TryGetProperty("push", out var p) && p.GetString() is "pub" or "inbox");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_publish_on_one_node_reaches_channel_user_and_attribute_targets_on_the_others(bool sharded)
    {
        await using var nodes = await fixture.StartNodesAsync(3, sharded: sharded);
        var subscriber = await NativeAsync(nodes[1]);
        await SubscribeAsync(subscriber, "news");
        var plain = await nodes[2].ConnectPlainAsync("""{"school_id":"2","school_class_id":"1"}""");
        var user = await NativeAsync(nodes[2], "u42");

        var published = await PublishAsync(nodes[0], """{"channel":"news","data":{"n":1}}""");
        Assert.Equal(1UL, published.GetProperty("offset").GetUInt64());
        Assert.False(published.TryGetProperty("recipients", out _)); // every node delivers: not known at the origin
        var pub = await NextPublicationAsync(subscriber);
        Assert.Equal("news", pub.GetProperty("channel").GetString());
        Assert.Equal(1UL, pub.GetProperty("offset").GetUInt64());
        Assert.Equal(1, pub.GetProperty("data").GetProperty("n").GetInt32());

        await nodes[0].SendUdpAsync("""{"where":{"school_id":"2"},"data":"class 2 news"}""");
        Assert.Equal("class 2 news", await plain.ReceiveAsync());

        var inbox = await PublishAsync(nodes[1], """{"user":"u42","data":{"order":7}}""");
        var entry = await NextPublicationAsync(user);
        Assert.Equal("inbox", entry.GetProperty("push").GetString());
        Assert.Equal(7, entry.GetProperty("data").GetProperty("order").GetInt32());
        Assert.Equal(entry.GetProperty("offset").GetUInt64(), inbox.GetProperty("inbox").GetProperty("u42").GetUInt64());

        // A node without subscribers of a channel does not listen to it.
        Assert.Equal(1, nodes[0].Node.BrokerTopicCount); // the broadcast topic only
        Assert.Equal(2, nodes[1].Node.BrokerTopicCount); // broadcast + news
    }

    [Fact]
    public async Task Concurrent_publishes_from_two_nodes_arrive_everywhere_in_offset_order_without_gaps()
    {
        await using var nodes = await fixture.StartNodesAsync(3);
        var watchers = new[] { await NativeAsync(nodes[0]), await NativeAsync(nodes[1]), await NativeAsync(nodes[2]) };
        foreach (var watcher in watchers)
        {
            await SubscribeAsync(watcher, "orders");
        }
        const int perNode = 60;
        await Task.WhenAll(Enumerable.Range(0, 2).Select(n => Task.Run(async () =>
        {
            for (var i = 0; i < perNode; i++)
            {
                await PublishAsync(nodes[n], "{\"channel\":\"orders\",\"data\":{\"from\":" + n + ",\"i\":" + i + "}}");
            }
        })));
        foreach (var watcher in watchers)
        {
            for (var expected = 1UL; expected <= 2 * perNode; expected++)
            {
                var pub = await NextPublicationAsync(watcher);
                Assert.Equal(expected, pub.GetProperty("offset").GetUInt64());
            }
        }
    }

    [Fact]
    public async Task A_client_moving_to_another_node_recovers_what_it_missed_then_continues_live_without_repeats()
    {
        await using var nodes = await fixture.StartNodesAsync(3);
        var before = await NativeAsync(nodes[0]);
        var first = await SubscribeAsync(before, "feed");
        var epoch = first.GetProperty("epoch").GetString();
        for (var i = 1; i <= 3; i++)
        {
            await PublishAsync(nodes[2], $$"""{"channel":"feed","data":{{i}}}""");
            Assert.Equal((ulong)i, (await NextPublicationAsync(before)).GetProperty("offset").GetUInt64());
        }
        await before.DisposeAsync();
        for (var i = 4; i <= 6; i++)
        {
            await PublishAsync(nodes[2], $$"""{"channel":"feed","data":{{i}}}""");
        }

        var after = await NativeAsync(nodes[1]);
        var recovery = await SubscribeAsync(after, "feed", since: $$"""{"offset":3,"epoch":"{{epoch}}"}""");
        Assert.True(recovery.GetProperty("recovered").GetBoolean(), recovery.ToString());
        Assert.Equal([4UL, 5UL, 6UL], recovery.GetProperty("publications").EnumerateArray().Select(p => p.GetProperty("offset").GetUInt64()));
        await PublishAsync(nodes[0], """{"channel":"feed","data":7}""");
        Assert.Equal(7UL, (await NextPublicationAsync(after)).GetProperty("offset").GetUInt64());
    }

    [Fact]
    public async Task Leaving_and_coming_back_while_publishes_go_on_is_not_taken_for_missed_messages()
    {
        await using var nodes = await fixture.StartNodesAsync(2);
        for (var round = 0; round < 5; round++)
        {
            var client = await NativeAsync(nodes[1]);
            await SubscribeAsync(client, "ticker");
            var published = await PublishAsync(nodes[0], $$"""{"channel":"ticker","data":{{round}}}""");
            var pub = await NextPublicationAsync(client);
            Assert.Equal(published.GetProperty("offset").GetUInt64(), pub.GetProperty("offset").GetUInt64());
            await client.DisposeAsync(); // the node stops listening to the channel...
            await PublishAsync(nodes[0], """{"channel":"ticker","data":"while away"}"""); // ...and these are not for it
            await PublishAsync(nodes[0], """{"channel":"ticker","data":"while away"}""");
        }
        Assert.Empty(nodes[1].Logs.WithEventId(1016)); // no "messages were missed"
    }

    [Fact]
    public async Task Publications_racing_a_recovery_are_neither_lost_nor_repeated()
    {
        await using var nodes = await fixture.StartNodesAsync(2);
        using var stop = new CancellationTokenSource();
        var publisher = Task.Run(async () =>
        {
            var i = 0;
            while (!stop.IsCancellationRequested)
            {
                await PublishAsync(nodes[0], $$"""{"channel":"race","data":{{++i}}}""");
            }
            return i;
        });
        await Timeouts.Until(() => nodes[0].Node.Counters.Publishes > 20, "publishes started");
        var client = await NativeAsync(nodes[1]);
        var reply = await SubscribeAsync(client, "race", since: """{"offset":0,"epoch":""}""");
        var seen = reply.GetProperty("publications").EnumerateArray().Select(p => p.GetProperty("offset").GetUInt64()).ToList();
        await Task.Delay(300);
        await stop.CancelAsync();
        var total = await publisher;
        while (seen.Count < total)
        {
            seen.Add((await NextPublicationAsync(client)).GetProperty("offset").GetUInt64());
        }
        Assert.Equal(Enumerable.Range(1, total).Select(i => (ulong)i), seen);
    }

    [Fact]
    public async Task Presence_online_and_info_see_every_node()
    {
        await using var nodes = await fixture.StartNodesAsync(3, configure: o => o with { Node = o.Node with { JoinLeave = true } });
        var alice = await NativeAsync(nodes[0], "alice");
        await SubscribeAsync(alice, "room");
        var bob = await NativeAsync(nodes[1], "bob");
        await SubscribeAsync(bob, "room");
        var join = await alice.ReceiveJsonUntilAsync(m => m.TryGetProperty("push", out var p) && p.GetString() == "join");
        Assert.Equal("bob", join.GetProperty("user").GetString());
        var bobAgain = await NativeAsync(nodes[2], "bob");

        var stats = await ApiAsync(nodes[2], "presence_stats", """{"channel":"room"}""");
        Assert.Equal(2, stats.GetProperty("connections").GetInt32());
        Assert.Equal(2, stats.GetProperty("users").GetInt32());
        var members = await ApiAsync(nodes[2], "presence", """{"channel":"room"}""");
        Assert.Equal(["alice", "bob"], members.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("user").GetString()).Order());

        var online = await ApiAsync(nodes[2], "online", """{"users":["alice","bob","carol"]}""");
        var users = online.GetProperty("users");
        Assert.Equal(1, users.GetProperty("alice").GetProperty("connections").GetInt32());
        Assert.Equal(2, users.GetProperty("bob").GetProperty("connections").GetInt32());
        Assert.False(users.GetProperty("carol").GetProperty("online").GetBoolean());
        Assert.Equal(2, online.GetProperty("total_users").GetInt32());

        await Timeouts.Until(() => InfoNodes(nodes[0]).Result.Length == 3, "every node registered");
        var info = await ApiAsync(nodes[0], "info", "{}");
        Assert.Equal("redis", info.GetProperty("engine").GetString());
        Assert.Equal(3, info.GetProperty("nodes").GetArrayLength());
        Assert.Contains(info.GetProperty("nodes").EnumerateArray(), n => n.GetProperty("id").GetString() == nodes[2].Node.Id);

        await bob.DisposeAsync();
        var leave = await alice.ReceiveJsonUntilAsync(m => m.TryGetProperty("push", out var p) && p.GetString() == "leave");
        Assert.Equal("bob", leave.GetProperty("user").GetString());
        await bobAgain.DisposeAsync();
        await Timeouts.Until(() => Online(nodes[0], "bob").Result == 0, "bob offline everywhere");
    }

    [Fact]
    public async Task A_retry_with_the_same_idempotency_key_through_another_node_is_published_once()
    {
        await using var nodes = await fixture.StartNodesAsync(3);
        var watcher = await NativeAsync(nodes[2]);
        await SubscribeAsync(watcher, "approvals");

        var first = await PublishAsync(nodes[0], """{"channel":"approvals","data":"ok","idempotency_key":"req-17"}""");
        var retry = await PublishAsync(nodes[1], """{"channel":"approvals","data":"ok","idempotency_key":"req-17"}""");
        Assert.False(first.TryGetProperty("duplicate", out _));
        Assert.True(retry.GetProperty("duplicate").GetBoolean());
        Assert.Equal(first.GetProperty("offset").GetUInt64(), retry.GetProperty("offset").GetUInt64());

        // Concurrent retries on every node: one publish.
        var racing = await Task.WhenAll(Enumerable.Range(0, 9).Select(i =>
            PublishAsync(nodes[i % 3], """{"channel":"approvals","data":"again","idempotency_key":"req-18"}""")));
        Assert.Single(racing, r => !r.TryGetProperty("duplicate", out _));
        await PublishAsync(nodes[0], """{"channel":"approvals","data":"marker"}""");

        var received = new List<string>();
        while (received.LastOrDefault() != "marker")
        {
            received.Add((await NextPublicationAsync(watcher)).GetProperty("data").GetString()!);
        }
        Assert.Equal(["ok", "again", "marker"], received);
    }

    private static async Task<JsonElement[]> InfoNodes(TestServer node) =>
        [.. (await ApiAsync(node, "info", "{}")).GetProperty("nodes").EnumerateArray()];

    private static async Task<int> Online(TestServer node, string user) =>
        (await ApiAsync(node, "online", $$"""{"users":["{{user}}"]}""")).GetProperty("users").GetProperty(user).GetProperty("connections").GetInt32();

    [Fact]
    public async Task Control_commands_reach_the_connections_of_other_nodes()
    {
        await using var nodes = await fixture.StartNodesAsync(2);
        var user = await NativeAsync(nodes[1], "dave");
        var other = await NativeAsync(nodes[1], "erin");

        await ApiAsync(nodes[0], "subscribe", """{"user":"dave","channel":"alerts"}""");
        var pushed = await user.ReceiveJsonUntilAsync(m => m.TryGetProperty("push", out var p) && p.GetString() == "subscribe");
        Assert.Equal("alerts", pushed.GetProperty("channel").GetString());
        await Timeouts.Until(() => nodes[1].Node.SubscriberCount("alerts") == 1, "dave subscribed on node B");

        await ApiAsync(nodes[0], "disconnect", $$"""{"client":"{{ClientId(nodes[1], "erin")}}","reconnect":false}""");
        Assert.Equal(4502, await other.WaitForCloseAsync());
        await ApiAsync(nodes[0], "disconnect", """{"user":"dave"}""");
        Assert.Equal(4004, await user.WaitForCloseAsync());
    }

    private static string ClientId(TestServer node, string user) => node.Node.Find(user, null).Single().Id;

    [Fact]
    public async Task Publishing_when_redis_is_unreachable_fails_fast_with_503_and_local_connections_stay_served()
    {
        var redis = await RedisServer.StartAsync();
        await using var redisOwner = redis;
        await using var nodes = await StartOnAsync(redis, 1);
        var client = await NativeAsync(nodes[0]);
        await SubscribeAsync(client, "x");
        await redis.StopAsync();
        nodes[0].Logs.ExpectError(4003); // connection lost
        nodes[0].Logs.ExpectError(1012); // storage failed

        await Timeouts.Until(() => !nodes[0].Node.BrokerConnected, "the node noticed");
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using var response = await nodes[0].PostApiAsync("publish", """{"channel":"x","data":1}""");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("retry", (await TestServer.JsonAsync(response)).GetProperty("error").GetProperty("message").GetString());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"took {watch.Elapsed}");
        var health = await TestServer.JsonAsync(await nodes[0].Http.GetAsync("health"));
        Assert.Equal("degraded", health.GetProperty("status").GetString());
        Assert.Equal("redis: disconnected", health.GetProperty("engine").GetString());
        var pong = await TestServer.CallAsync(client, 9, "ping");
        Assert.True(pong.TryGetProperty("result", out _), pong.ToString());

        await redis.RestartAsync();
        await Timeouts.Until(() => nodes[0].Node.BrokerConnected, "reconnected", TimeSpan.FromSeconds(20));
        // The first publish that reaches Redis again clears the node's storage error: healthy again.
        await PublishAsync(nodes[0], """{"channel":"x","data":2}""");
        health = await TestServer.JsonAsync(await nodes[0].Http.GetAsync("health"));
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal("redis: connected", health.GetProperty("engine").GetString());
    }

    [Fact]
    public async Task A_control_command_while_redis_is_unreachable_is_applied_on_this_node_and_answers_503()
    {
        var redis = await RedisServer.StartAsync();
        await using var redisOwner = redis;
        await using var nodes = await StartOnAsync(redis, 1);
        var dave = await NativeAsync(nodes[0], "dave");
        await redis.StopAsync();
        nodes[0].Logs.ExpectError(4003); // connection lost
        nodes[0].Logs.ExpectError(1012); // storage failed
        await Timeouts.Until(() => !nodes[0].Node.BrokerConnected, "the node noticed");

        using var response = await nodes[0].PostApiAsync("disconnect", """{"user":"dave","reconnect":false}""");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var error = (await TestServer.JsonAsync(response)).GetProperty("error");
        Assert.Equal(Herald.Protocol.ErrorCodes.StoreUnavailable, error.GetProperty("code").GetInt32());
        Assert.StartsWith("applied on this node only: the cluster's engine is unavailable", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(4502, await dave.WaitForCloseAsync());
    }

    [Fact]
    public async Task A_node_started_while_redis_is_down_serves_locally_and_joins_the_cluster_when_redis_comes()
    {
        var redis = await RedisServer.StartAsync();
        await using var redisOwner = redis;
        await redis.StopAsync();
        await using var nodes = await StartOnAsync(redis, 1);
        nodes[0].Logs.ExpectError(1012); // storage failed while Redis is down
        var plain = await nodes[0].ConnectPlainAsync("""{"school_id":"2"}""");
        using (var refused = await nodes[0].PostApiAsync("publish", """{"where":{"school_id":"2"},"data":"early"}"""))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }

        await redis.RestartAsync();
        await Timeouts.Until(() => nodes[0].Node.BrokerConnected && nodes[0].Node.BrokerTopicCount == 1, "joined the broadcast topic", TimeSpan.FromSeconds(20));
        await PublishAsync(nodes[0], """{"where":{"school_id":"2"},"data":"late"}""");
        Assert.Equal("late", await plain.ReceiveAsync());
    }

    private static async Task<Nodes> StartOnAsync(RedisServer redis, int count)
    {
        var prefix = RedisClusterFixture.NewPrefix();
        var list = new List<TestServer>();
        for (var i = 0; i < count; i++)
        {
            list.Add(await TestServer.StartAsync(o => o with
            {
                Redis = RedisClusterFixture.Engine(redis.Address, prefix),
                Token = new Herald.Core.Auth.TokenOptions { Secret = RedisClusterFixture.Secret },
            }));
        }
        return new Nodes(list, prefix);
    }
}
