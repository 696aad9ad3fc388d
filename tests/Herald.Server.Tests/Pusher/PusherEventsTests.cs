using Herald.Core.Control;
using System.Net;
using System.Text.Json;

namespace Herald.Server.Tests.Pusher;

/// <summary>Triggering events through the Pusher API, received by native herald.v1 subscribers; apps kept apart.</summary>
public sealed class PusherEventsTests
{
    private static PusherRequests Api(TestServer server, Herald.Core.Apps.AppOptions app) => new(server, app);

    private static string Event(string channel, string data, string name = "created") =>
        JsonSerializer.Serialize(new { name, channel, data });

    [Fact]
    public async Task An_event_of_the_default_app_reaches_native_subscribers_as_the_same_string()
    {
        await using var server = await PusherTestServers.StartAsync();
        var orders = await PusherTestServers.SubscriberAsync(server, null, "orders");
        var invoices = await PusherTestServers.SubscriberAsync(server, null, "invoices");

        using var one = await Api(server, PusherTestServers.Main).PostAsync("/events", Event("orders", """{"id":7,"text":"ünïcode \"quoted\""}"""));
        using var many = await Api(server, PusherTestServers.Main).PostAsync("/events",
            """{"name":"both","channels":["orders","invoices"],"data":"plain text"}""");

        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        Assert.Equal(HttpStatusCode.OK, many.StatusCode);
        var first = await orders.ReceiveJsonAsync();
        Assert.Equal("pub", first.GetProperty("push").GetString());
        Assert.Equal("orders", first.GetProperty("channel").GetString());
        Assert.Equal("""{"id":7,"text":"ünïcode \"quoted\""}""", first.GetProperty("data").GetString());
        Assert.Equal("plain text", (await orders.ReceiveJsonAsync()).GetProperty("data").GetString());
        Assert.Equal("plain text", (await invoices.ReceiveJsonAsync()).GetProperty("data").GetString());
    }

    [Fact]
    public async Task An_event_of_one_app_never_reaches_another_apps_nor_the_default_apps_channel_of_the_same_name()
    {
        await using var server = await PusherTestServers.StartAsync();
        var native = await PusherTestServers.SubscriberAsync(server, null, "orders");
        // Until the Pusher WebSocket adapter exists, a native connection subscribed by the backend to an app's node name
        // stands in for that app's client.
        var shopClient = await ScopedSubscriberAsync(server, "shop-watcher", "shop orders");
        var blogClient = await ScopedSubscriberAsync(server, "blog-watcher", "blog orders");

        using var shop = await Api(server, PusherTestServers.Shop).PostAsync("/events", Event("orders", "from shop"));
        using var blog = await Api(server, PusherTestServers.Blog).PostAsync("/events", Event("orders", "from blog"));
        using var main = await Api(server, PusherTestServers.Main).PostAsync("/events", Event("orders", "from main"));
        using var shopAgain = await Api(server, PusherTestServers.Shop).PostAsync("/events", Event("orders", "shop again"));
        using var blogAgain = await Api(server, PusherTestServers.Blog).PostAsync("/events", Event("orders", "blog again"));

        // Published in this order, delivered in order: each subscriber's events are its own app's, and nothing else between.
        Assert.Equal("from main", await NextDataAsync(native));
        Assert.Equal("from shop", await NextDataAsync(shopClient));
        Assert.Equal("shop again", await NextDataAsync(shopClient));
        Assert.Equal("from blog", await NextDataAsync(blogClient));
        Assert.Equal("blog again", await NextDataAsync(blogClient));
        // No native client can name another app's channel.
        var refused = await TestServer.CallAsync(native, 9, "subscribe", """{"channel":"shop orders"}""");
        Assert.True(refused.TryGetProperty("error", out _), refused.ToString());
    }

    private static async Task<WsClient> ScopedSubscriberAsync(TestServer server, string user, string scopedChannel)
    {
        var client = await PusherTestServers.SubscriberAsync(server, user);
        Assert.Equal(1, await server.Node.ControlAsync(new SubscribeCommand(ControlTarget.User(user), scopedChannel)));
        return client;
    }

    private static async Task<string> NextDataAsync(WsClient client) =>
        (await client.ReceiveJsonUntilAsync(m => m.GetProperty("push").GetString() == "pub")).GetProperty("data").GetString()!;

    [Fact]
    public async Task A_udp_publish_to_the_default_app_and_a_pusher_event_share_one_channel()
    {
        await using var server = await PusherTestServers.StartAsync();
        var native = await PusherTestServers.SubscriberAsync(server, null, "orders");

        await server.SendUdpAndWaitAsync("""{"channel":"orders","data":{"via":"udp"}}""");
        using var pusher = await Api(server, PusherTestServers.Main).PostAsync("/events", Event("orders", "via pusher"));

        Assert.Equal("udp", (await native.ReceiveJsonAsync()).GetProperty("data").GetProperty("via").GetString());
        Assert.Equal("via pusher", (await native.ReceiveJsonAsync()).GetProperty("data").GetString());
    }

    [Fact]
    public async Task A_batch_is_delivered_in_order_and_answers_the_counts_each_event_asked_for()
    {
        await using var server = await PusherTestServers.StartAsync();
        var alice = await PusherTestServers.SubscriberAsync(server, "alice", "presence-room", "news");
        await PusherTestServers.SubscriberAsync(server, "alice", "presence-room");
        await PusherTestServers.SubscriberAsync(server, "bob", "presence-room");

        using var response = await Api(server, PusherTestServers.Main).PostAsync("/batch_events", """
            {"batch":[
              {"channel":"presence-room","name":"a","data":"1","info":"user_count,subscription_count"},
              {"channel":"news","name":"b","data":"2"},
              {"channel":"news","name":"c","data":"3","info":"subscription_count"}]}
            """);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"batch":[{"user_count":2,"subscription_count":3},{},{"subscription_count":1}]}""", await response.Content.ReadAsStringAsync());
        Assert.Equal(["1", "2", "3"], [
            (await alice.ReceiveJsonAsync()).GetProperty("data").GetString()!,
            (await alice.ReceiveJsonAsync()).GetProperty("data").GetString()!,
            (await alice.ReceiveJsonAsync()).GetProperty("data").GetString()!,
        ]);
    }

    [Fact]
    public async Task A_trigger_with_info_answers_user_count_for_presence_channels_only()
    {
        await using var server = await PusherTestServers.StartAsync();
        await PusherTestServers.SubscriberAsync(server, "alice", "presence-room", "news");

        using var response = await Api(server, PusherTestServers.Main).PostAsync("/events",
            """{"name":"x","channels":["presence-room","news"],"data":"d","info":"user_count,subscription_count"}""");

        Assert.Equal("""{"channels":{"presence-room":{"user_count":1,"subscription_count":1},"news":{"subscription_count":1}}}""",
            await response.Content.ReadAsStringAsync());
    }

    public static TheoryData<string, string, int, string> BadEvents => new()
    {
        { "data over 10 KiB", Event("orders", new string('x', 10 * 1024 + 1)), 413, "Event data too large: 10241 bytes, the limit is 10240 bytes" },
        { "multi-byte data over 10 KiB", Event("orders", new string('é', 5 * 1024 + 1)), 413, "Event data too large" },
        { "not JSON", "{\"name\":", 400, "not valid JSON" },
        { "not an object", "[1]", 400, "expected a JSON object" },
        { "data not a string", """{"name":"a","channel":"orders","data":{"id":1}}""", 400, "\"data\" must be a string" },
        { "no data", """{"name":"a","channel":"orders"}""", 400, "\"data\" must be a string" },
        { "no name", """{"channel":"orders","data":"x"}""", 400, "\"name\" must be an event name" },
        { "reserved name", """{"name":"pusher:subscribe","channel":"orders","data":"x"}""", 400, "is reserved" },
        { "no channel", """{"name":"a","data":"x"}""", 400, "Name the channels" },
        { "channel and channels", """{"name":"a","channel":"x","channels":["y"],"data":"x"}""", 400, "not both" },
        { "a space in a channel", """{"name":"a","channel":"shop orders","data":"x"}""", 400, "Invalid channel name 'shop orders'" },
        { "a colon in a channel", """{"name":"a","channel":"ns:orders","data":"x"}""", 400, "Invalid channel name" },
        { "empty channels", """{"name":"a","channels":[],"data":"x"}""", 400, "at least one channel" },
        { "101 channels", JsonSerializer.Serialize(new { name = "a", data = "x", channels = Enumerable.Range(0, 101).Select(i => "c" + i) }), 400, "Too many channels: 101, the limit is 100" },
        { "bad socket_id", """{"name":"a","channel":"orders","data":"x","socket_id":"abc-1"}""", 400, "Invalid socket_id 'abc-1'" },
        { "unknown info", """{"name":"a","channel":"orders","data":"x","info":"colour"}""", 400, "Unknown info attribute 'colour'" },
    };

    [Theory]
    [MemberData(nameof(BadEvents))]
    public async Task A_bad_or_oversized_event_is_refused_and_publishes_nothing(string what, string body, int status, string message)
    {
        await using var server = await PusherTestServers.StartAsync();
        var native = await PusherTestServers.SubscriberAsync(server, null, "orders");
        var main = Api(server, PusherTestServers.Main);

        using var response = await main.PostAsync("/events", body);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"{what}: {(int)response.StatusCode} {text}");
        Assert.Contains(message, text, StringComparison.Ordinal);
        using var next = await main.PostAsync("/events", Event("orders", "after"));
        Assert.Equal("after", (await native.ReceiveJsonAsync()).GetProperty("data").GetString());
    }

    [Fact]
    public async Task A_batch_over_the_limit_or_with_one_bad_event_publishes_none_of_it()
    {
        await using var server = await PusherTestServers.StartAsync(a => a with { MaxEventsPerBatch = 3 });
        var native = await PusherTestServers.SubscriberAsync(server, null, "orders");
        var main = Api(server, PusherTestServers.Main);
        string Batch(int count, string last = "\"x\"") => "{\"batch\":[" + string.Join(",", Enumerable.Range(0, count)
            .Select(i => $$"""{"channel":"orders","name":"e","data":{{(i == count - 1 ? last : "\"x\"")}}}""")) + "]}";

        using var tooMany = await main.PostAsync("/batch_events", Batch(4));
        using var oneBad = await main.PostAsync("/batch_events", Batch(3, last: "5"));
        using var tooBig = await main.PostAsync("/batch_events", Batch(2, last: JsonSerializer.Serialize(new string('y', 10 * 1024 + 1))));
        using var notArray = await main.PostAsync("/batch_events", """{"batch":{}}""");
        using var next = await main.PostAsync("/events", Event("orders", "after"));

        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Contains("Batch too large: 4 events, the limit is 3", await tooMany.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, oneBad.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, notArray.StatusCode);
        Assert.Equal("after", (await native.ReceiveJsonAsync()).GetProperty("data").GetString());
    }

    [Fact]
    public async Task A_body_over_the_apps_overall_limit_is_refused_with_413()
    {
        await using var server = await PusherTestServers.StartAsync(a => a with { MaxEventSizeKb = 1, MaxEventsPerBatch = 1, MaxChannelsPerEvent = 1 });
        var huge = JsonSerializer.Serialize(new { name = "a", channel = "orders", data = "x", padding = new string('p', 200 * 1024) });

        using var response = await Api(server, PusherTestServers.Main).PostAsync("/events", huge);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("Request body too large", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_batch_larger_than_max_message_size_but_within_the_apps_limits_is_taken()
    {
        await using var server = await PusherTestServers.StartAsync();
        var native = await PusherTestServers.SubscriberAsync(server, null, "orders");
        var data = new string('z', 10 * 1024);
        var body = JsonSerializer.Serialize(new { batch = Enumerable.Range(0, 10).Select(_ => new { channel = "orders", name = "e", data }) });
        Assert.True(body.Length > server.Node.Options.MaxMessageSize);

        using var response = await Api(server, PusherTestServers.Main).PostAsync("/batch_events", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(data, (await native.ReceiveJsonAsync()).GetProperty("data").GetString());
        }
    }

    [Fact]
    public async Task Wrong_methods_and_unknown_endpoints_are_answered_plainly()
    {
        await using var server = await PusherTestServers.StartAsync();
        var main = Api(server, PusherTestServers.Main);

        using var get = await main.GetAsync("/events");
        using var unknown = await main.GetAsync("/nothing/here");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        Assert.Equal("POST", get.Content.Headers.Allow.Single());
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }
}
