using System.Net;
using System.Text.Json;
using Herald.Core.Routing;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Cluster;

/// <summary>A publish's event name and its excluded connection hold across the nodes of a Redis cluster.</summary>
[Collection(RedisClusterCollection.Name)]
public sealed class ClusterEventTests(RedisClusterFixture fixture)
{
    private static async Task<(WsClient Client, string Id)> NativeAsync(TestServer node, string? user = null)
    {
        var client = await node.ConnectNativeAsync(connect: false);
        var reply = await TestServer.CallAsync(client, 1, "connect", user is null ? "{}" : $$"""{"token":"{{RedisClusterFixture.Token(user)}}"}""");
        Assert.True(reply.TryGetProperty("result", out var result), reply.ToString());
        return (client, result.GetProperty("client").GetString()!);
    }

    private static async Task<string> SubscribeAsync(WsClient client, string channel)
    {
        var reply = await TestServer.CallAsync(client, 2, "subscribe", $$"""{"channel":"{{channel}}"}""");
        Assert.True(reply.TryGetProperty("result", out var result), reply.ToString());
        return result.GetProperty("epoch").GetString()!;
    }

    private static Task<JsonElement> NextPublicationAsync(WsClient client) =>
        client.ReceiveJsonUntilAsync(m => m.TryGetProperty("push", out var p) && p.GetString() is "pub" or "inbox");

    private static string? EventOf(JsonElement element) => element.TryGetProperty("event", out var e) ? e.GetString() : null;

    [Fact]
    public async Task An_event_published_on_one_node_reaches_the_others_live_in_recovery_and_in_the_inbox()
    {
        await using var nodes = await fixture.StartNodesAsync(2);
        var (subscriber, _) = await NativeAsync(nodes[1]);
        var epoch = await SubscribeAsync(subscriber, "orders");
        var (device, _) = await NativeAsync(nodes[1], "u7");

        using var published = await nodes[0].PostApiAsync("publish", """{"channel":"orders","event":"order|created%7C%25","data":1}""");
        Assert.Equal(HttpStatusCode.OK, published.StatusCode);
        await nodes[0].SendUdpAsync("""{"user":"u7","event":"approval.asked","data":2}""");
        await nodes[0].SendUdpAsync("""{"channel":"orders","data":3}""");

        var live = await NextPublicationAsync(subscriber);
        Assert.Equal(("order|created%7C%25", 1), (EventOf(live), live.GetProperty("data").GetInt32()));
        Assert.Null(EventOf(await NextPublicationAsync(subscriber)));
        var entry = await NextPublicationAsync(device);
        Assert.Equal(("inbox", "approval.asked"), (entry.GetProperty("push").GetString(), EventOf(entry)));
        var (returning, _) = await NativeAsync(nodes[0]);
        var recovered = (await TestServer.CallAsync(returning, 2, "subscribe", $$$"""{"channel":"orders","since":{"offset":0,"epoch":"{{{epoch}}}"}}""")).GetProperty("result");
        Assert.Equal(["order|created%7C%25", null], recovered.GetProperty("publications").EnumerateArray().Select(EventOf));
        var history = await TestServer.JsonAsync(await nodes[1].PostApiAsync("history", """{"channel":"orders"}"""));
        Assert.Equal(["order|created%7C%25", null], history.GetProperty("publications").EnumerateArray().Select(EventOf));
    }

    [Fact]
    public async Task The_excluded_connection_gets_nothing_on_whichever_node_it_is_and_the_others_get_the_publish()
    {
        await using var nodes = await fixture.StartNodesAsync(2);
        var (sender, senderId) = await NativeAsync(nodes[1], "u1");
        var (sameNode, _) = await NativeAsync(nodes[1]);
        var (otherNode, _) = await NativeAsync(nodes[0]);
        foreach (var client in new[] { sender, sameNode, otherNode })
        {
            await SubscribeAsync(client, "chat");
        }

        // Published on node 0, the excluded connection is on node 1: only the broker's message tells node 1 whom to skip.
        var result = await nodes[0].Node.PublishAsync(new PublishRequest(["chat"], null, "\"hi\""u8.ToArray(), true, ["u1"])
        {
            Event = "message.sent",
            ExceptConnection = senderId,
        }).AsTask().DefaultTimeout();
        Assert.True(result.Succeeded, result.Error);
        using var marker = await nodes[0].PostApiAsync("publish", """{"channels":["chat"],"data":"marker"}""");
        Assert.Equal(HttpStatusCode.OK, marker.StatusCode);

        foreach (var client in new[] { sameNode, otherNode })
        {
            var got = await NextPublicationAsync(client);
            Assert.Equal(("message.sent", "hi"), (EventOf(got), got.GetProperty("data").GetString()));
        }
        // The sender's next publication is the marker: neither its channel nor its user topic handed it the excluded one.
        Assert.Equal("marker", (await NextPublicationAsync(sender)).GetProperty("data").GetString());
    }
}
