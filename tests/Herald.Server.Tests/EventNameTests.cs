using System.Net;
using System.Text.Json;
using Herald.Core.Auth;
using Herald.Core.Routing;

namespace Herald.Server.Tests;

/// <summary>
/// A publish's <c>event</c> over real sockets: UDP and HTTP take it, herald.v1 clients see it live, in recovery and in
/// the inbox, /api/history returns it (memory and SQLite engines); a publish's excluded connection gets nothing.
/// </summary>
public sealed class EventNameTests
{
    private const string Secret = "event-name-server-test-secret-0123456789";

    private static Task<TestServer> StartAsync(string engine, TempDirectory directory) => TestServer.StartAsync(o => o with
    {
        Token = new TokenOptions { Secret = Secret },
        DataDirectory = engine == "sqlite" ? directory.Path : null,
    });

    private static Task<JsonElement> NextPublicationAsync(WsClient client) =>
        client.ReceiveJsonUntilAsync(m => m.TryGetProperty("push", out var p) && p.GetString() is "pub" or "inbox");

    private static string? EventOf(JsonElement element) => element.TryGetProperty("event", out var e) ? e.GetString() : null;

    private static async Task<JsonElement> PublishAsync(TestServer server, string body)
    {
        using var response = await server.PostApiAsync("publish", body);
        var json = await TestServer.JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, json.ToString());
        return json;
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("sqlite")]
    public async Task An_event_published_over_UDP_or_HTTP_reaches_native_clients_live_in_history_in_recovery_and_in_the_inbox(string engine)
    {
        using var directory = new TempDirectory();
        await using var server = await StartAsync(engine, directory);
        var live = await server.ConnectNativeAsync();
        var epoch = (await TestServer.CallAsync(live, 2, "subscribe", """{"channel":"orders"}""")).GetProperty("result").GetProperty("epoch").GetString();

        await PublishAsync(server, """{"channel":"orders","event":"order.created","data":{"n":1}}""");
        await server.SendUdpAsync("""{"channel":"orders","event":"App\\Events\\OrderPaid","data":{"n":2}}""");
        var first = await NextPublicationAsync(live);
        var second = await NextPublicationAsync(live);
        await PublishAsync(server, """{"channel":"orders","data":{"n":3}}""");
        var third = await NextPublicationAsync(live);
        string?[] expected = ["order.created", "App\\Events\\OrderPaid", null];

        Assert.Equal(expected, new[] { first, second, third }.Select(EventOf));
        Assert.Equal([1, 2, 3], new[] { first, second, third }.Select(p => p.GetProperty("data").GetProperty("n").GetInt32()));
        var history = await TestServer.JsonAsync(await server.PostApiAsync("history", """{"channel":"orders"}"""));
        Assert.Equal(expected, history.GetProperty("publications").EnumerateArray().Select(EventOf));
        var returning = await server.ConnectNativeAsync();
        var recovered = (await TestServer.CallAsync(returning, 2, "subscribe", $$$"""{"channel":"orders","since":{"offset":1,"epoch":"{{{epoch}}}"}}""")).GetProperty("result");
        Assert.True(recovered.GetProperty("recovered").GetBoolean());
        Assert.Equal(expected[1..], recovered.GetProperty("publications").EnumerateArray().Select(EventOf));

        await server.SendUdpAndWaitAsync("""{"user":"42","event":"approval.asked","data":{"approval":1}}""");
        await PublishAsync(server, """{"user":"42","data":{"approval":2}}""");
        var device = await server.ConnectNativeAsync(connect: false);
        var inbox = (await TestServer.CallAsync(device, 1, "connect", $$"""{"token":"{{TokenIssuer.Create(Secret, "42", TimeSpan.FromHours(1))}}"}"""))
            .GetProperty("result").GetProperty("inbox");
        Assert.Equal(["approval.asked", null], inbox.GetProperty("publications").EnumerateArray().Select(EventOf));
        await PublishAsync(server, """{"user":"42","event":"approval.given","data":{"approval":3}}""");
        var entry = await NextPublicationAsync(device);
        Assert.Equal(("inbox", "approval.given"), (entry.GetProperty("push").GetString(), EventOf(entry)));
    }

    [Fact]
    public async Task A_bad_event_name_is_refused_with_code_104_and_a_reason_and_nothing_is_delivered()
    {
        using var directory = new TempDirectory();
        await using var server = await StartAsync("memory", directory);
        var plain = await server.ConnectPlainAsync("""{"k":"v"}""");

        using var spaced = await server.PostApiAsync("publish", """{"where":{},"event":"order shipped","data":1}""");
        using var number = await server.PostApiAsync("publish", """{"where":{},"event":7,"data":1}""");
        await server.SendUdpAndWaitAsync("""{"where":{},"event":"","data":2}""");
        await PublishAsync(server, """{"where":{},"event":"ok","data":3}""");

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (spaced.StatusCode, number.StatusCode));
        var error = (await TestServer.JsonAsync(spaced)).GetProperty("error");
        Assert.Equal(104, error.GetProperty("code").GetInt32());
        Assert.Contains("event name contains whitespace", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("3", await plain.ReceiveAsync()); // the refused publishes reached nobody
    }

    [Fact]
    public async Task The_excluded_connection_gets_nothing_while_every_other_target_gets_the_publish()
    {
        using var directory = new TempDirectory();
        await using var server = await StartAsync("memory", directory);
        var sender = await server.ConnectNativeAsync(connect: false);
        var senderId = (await TestServer.CallAsync(sender, 1, "connect")).GetProperty("result").GetProperty("client").GetString()!;
        var other = await server.ConnectNativeAsync();
        await TestServer.CallAsync(sender, 2, "subscribe", """{"channel":"chat"}""");
        await TestServer.CallAsync(other, 2, "subscribe", """{"channel":"chat"}""");

        var result = await server.Node.PublishAsync(new PublishRequest(["chat"], null, """{"text":"hi"}"""u8.ToArray(), false)
        {
            Event = "message.sent",
            ExceptConnection = senderId,
        }).AsTask().DefaultTimeout();
        await PublishAsync(server, """{"channel":"chat","data":{"text":"marker"}}""");

        Assert.Equal(1, result.Recipients);
        var got = await NextPublicationAsync(other);
        Assert.Equal(("message.sent", "hi"), (EventOf(got), got.GetProperty("data").GetProperty("text").GetString()));
        // The sender's next publication is the marker: the excluded one never came before it.
        Assert.Equal("marker", (await NextPublicationAsync(sender)).GetProperty("data").GetProperty("text").GetString());
    }
}
