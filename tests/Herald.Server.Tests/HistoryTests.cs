using System.Net;
using System.Text.Json;
using Herald.Core.Auth;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests;

/// <summary>History, recovery, the durable inbox and idempotency over real sockets (memory engine; the SQLite engine runs the same in process tests).</summary>
public sealed class HistoryTests
{
    private const string Secret = "history-server-test-secret-0123456789";

    [Fact]
    public async Task A_client_that_reconnects_recovers_exactly_the_500_it_missed_in_order()
    {
        await using var server = await TestServer.StartAsync(o => o with { Node = o.Node with { HistorySize = 1000 } });
        var first = await server.ConnectNativeAsync();
        var subscribed = (await TestServer.CallAsync(first, 2, "subscribe", """{"channel":"orders"}""")).GetProperty("result");
        await server.PostApiAsync("publish", """{"channel":"orders","data":"before"}""");
        var seen = await first.ReceiveJsonAsync();
        await first.DisposeAsync();

        for (var i = 0; i < 500; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await server.PostApiAsync("publish", $$$"""{"channel":"orders","data":{"n":{{{i}}}}}""")).StatusCode);
        }
        var second = await server.ConnectNativeAsync();
        var since = $$$"""{"channel":"orders","since":{"offset":{{{seen.GetProperty("offset").GetUInt64()}}},"epoch":"{{{subscribed.GetProperty("epoch").GetString()}}}"}}""";
        var recovered = (await TestServer.CallAsync(second, 2, "subscribe", since)).GetProperty("result");
        await server.PostApiAsync("publish", """{"channel":"orders","data":"live"}""");

        Assert.True(recovered.GetProperty("recovered").GetBoolean());
        var publications = recovered.GetProperty("publications").EnumerateArray().ToList();
        Assert.Equal(500, publications.Count);
        Assert.Equal(Enumerable.Range(0, 500), publications.Select(p => p.GetProperty("data").GetProperty("n").GetInt32()));
        Assert.Equal(Enumerable.Range(2, 500).Select(i => (ulong)i), publications.Select(p => p.GetProperty("offset").GetUInt64()));
        var live = await second.ReceiveJsonAsync();
        Assert.Equal(502UL, live.GetProperty("offset").GetUInt64());
    }

    [Fact]
    public async Task A_gap_longer_than_the_history_gives_recovered_false()
    {
        await using var server = await TestServer.StartAsync(o => o with { Node = o.Node with { HistorySize = 5 } });
        var first = await server.PostApiAsync("publish", """{"channel":"c","data":0}""");
        var epoch = (await TestServer.JsonAsync(first)).GetProperty("epoch").GetString();
        for (var i = 1; i < 20; i++)
        {
            await server.PostApiAsync("publish", $$$"""{"channel":"c","data":{{{i}}}}""");
        }
        var client = await server.ConnectNativeAsync();

        var result = (await TestServer.CallAsync(client, 2, "subscribe", $$$"""{"channel":"c","since":{"offset":1,"epoch":"{{{epoch}}}"}}""")).GetProperty("result");

        Assert.False(result.GetProperty("recovered").GetBoolean());
        Assert.Equal(0, result.GetProperty("publications").GetArrayLength());
        Assert.Equal(20UL, result.GetProperty("offset").GetUInt64());
    }

    [Fact]
    public async Task An_offline_user_gets_three_publishes_on_connect_and_none_after_acknowledging()
    {
        await using var server = await TestServer.StartAsync(o => o with { Token = new TokenOptions { Secret = Secret } });
        for (var i = 1; i <= 3; i++)
        {
            await server.SendUdpAndWaitAsync($$$"""{"user":"42","data":{"approval":{{{i}}}}}""");
        }
        var token = TokenIssuer.Create(Secret, "42", TimeSpan.FromHours(1));

        var device = await server.ConnectNativeAsync(connect: false);
        var inbox = (await TestServer.CallAsync(device, 1, "connect", $$$"""{"token":"{{{token}}}"}""")).GetProperty("result").GetProperty("inbox");
        var ack = await TestServer.CallAsync(device, 2, "inbox_ack", """{"offset":3}""");
        await device.DisposeAsync();
        var again = await server.ConnectNativeAsync(connect: false);
        var second = (await TestServer.CallAsync(again, 1, "connect", $$$"""{"token":"{{{token}}}"}""")).GetProperty("result").GetProperty("inbox");

        Assert.Equal([1, 2, 3], inbox.GetProperty("publications").EnumerateArray().Select(p => p.GetProperty("data").GetProperty("approval").GetInt32()));
        Assert.Equal(3UL, ack.GetProperty("result").GetProperty("acked").GetUInt64());
        Assert.Equal(0, second.GetProperty("publications").GetArrayLength());
    }

    [Fact]
    public async Task The_inbox_api_lists_acknowledges_and_deletes()
    {
        await using var server = await TestServer.StartAsync();
        await server.PostApiAsync("publish", """{"users":["7"],"data":"a"}""");
        await server.PostApiAsync("publish", """{"users":["7"],"data":"b"}""");

        var unread = await TestServer.JsonAsync(await server.PostApiAsync("inbox", """{"user":"7"}"""));
        var acked = await TestServer.JsonAsync(await server.PostApiAsync("inbox_ack", """{"user":"7","offset":1}"""));
        var afterAck = await TestServer.JsonAsync(await server.PostApiAsync("inbox", """{"user":"7"}"""));
        var all = await TestServer.JsonAsync(await server.PostApiAsync("inbox", """{"user":"7","since":0}"""));
        var deleted = await server.PostApiAsync("inbox_delete", """{"user":"7"}""");
        var empty = await TestServer.JsonAsync(await server.PostApiAsync("inbox", """{"user":"7","since":0}"""));

        Assert.Equal(2, unread.GetProperty("publications").GetArrayLength());
        Assert.Equal(1UL, acked.GetProperty("acked").GetUInt64());
        Assert.Equal("b", Assert.Single(afterAck.GetProperty("publications").EnumerateArray().ToList()).GetProperty("data").GetString());
        Assert.Equal(2, all.GetProperty("publications").GetArrayLength());
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(0, empty.GetProperty("publications").GetArrayLength());
        Assert.Equal(2UL, empty.GetProperty("offset").GetUInt64());
    }

    [Fact]
    public async Task The_history_api_reads_and_removes_and_publish_answers_with_offset_and_epoch()
    {
        await using var server = await TestServer.StartAsync();
        JsonElement last = default;
        for (var i = 1; i <= 4; i++)
        {
            last = await TestServer.JsonAsync(await server.PostApiAsync("publish", $$$"""{"channel":"news","data":{{{i}}}}""")); 
        }
        var epoch = last.GetProperty("epoch").GetString();

        var since = await TestServer.JsonAsync(await server.PostApiAsync("history", $$$"""{"channel":"news","limit":2,"since":{"offset":1,"epoch":"{{{epoch}}}"}}"""));
        var newest = await TestServer.JsonAsync(await server.PostApiAsync("history", """{"channel":"news","limit":1,"newest_first":true}"""));
        var wrongEpoch = await server.PostApiAsync("history", """{"channel":"news","since":{"offset":1,"epoch":"nope"}}""");
        var removed = await server.PostApiAsync("history_remove", """{"channel":"news"}""");
        var afterRemove = await TestServer.JsonAsync(await server.PostApiAsync("history", """{"channel":"news"}"""));
        var unknownNamespace = await server.PostApiAsync("history", """{"channel":"nope:x"}""");

        Assert.Equal(4UL, last.GetProperty("offset").GetUInt64());
        Assert.Equal(epoch, since.GetProperty("epoch").GetString());
        Assert.Equal([2UL, 3UL], since.GetProperty("publications").EnumerateArray().Select(p => p.GetProperty("offset").GetUInt64()));
        Assert.Equal(4, Assert.Single(newest.GetProperty("publications").EnumerateArray().ToList()).GetProperty("data").GetInt32());
        Assert.Equal(HttpStatusCode.BadRequest, wrongEpoch.StatusCode);
        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        Assert.Equal(0, afterRemove.GetProperty("publications").GetArrayLength());
        Assert.Equal(HttpStatusCode.BadRequest, unknownNamespace.StatusCode);
    }

    [Fact]
    public async Task Retried_publishes_with_one_idempotency_key_are_delivered_once()
    {
        await using var server = await TestServer.StartAsync();
        var client = await server.ConnectNativeAsync();
        await TestServer.CallAsync(client, 2, "subscribe", """{"channel":"orders"}""");
        const string body = """{"channel":"orders","data":"paid","idempotency_key":"order-7-paid"}""";

        await server.SendUdpAndWaitAsync(body);
        await server.SendUdpAndWaitAsync(body);
        var http = await TestServer.JsonAsync(await server.PostApiAsync("publish", body));
        await server.PostApiAsync("publish", """{"channel":"orders","data":"marker"}""");

        Assert.True(http.GetProperty("duplicate").GetBoolean());
        Assert.Equal(1UL, http.GetProperty("offset").GetUInt64());
        Assert.Equal("paid", (await client.ReceiveJsonAsync()).GetProperty("data").GetString());
        var next = await client.ReceiveJsonAsync();
        Assert.Equal("marker", next.GetProperty("data").GetString());
        Assert.Equal(2UL, next.GetProperty("offset").GetUInt64());
    }
}
