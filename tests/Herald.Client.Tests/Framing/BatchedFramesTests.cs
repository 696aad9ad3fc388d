using System.Text.Json;

namespace Herald.Client.Tests.Framing;

/// <summary>
/// A reply and pushes that reach the client in one read, in both orders: what the client hands the app must still be
/// every publication and inbox entry once, in offset order.
/// </summary>
public sealed class BatchedFramesTests
{
    private const string Epoch = "e0e0e0e0";

    private static HeraldClient Client(RawWebSocketServer server) => new(new HeraldClientOptions
    {
        Url = server.Uri,
        MinReconnectDelay = TimeSpan.FromMilliseconds(20),
        CommandTimeout = TimeSpan.FromSeconds(10),
    });

    private static string Pub(string channel, ulong offset) => $$"""{"push":"pub","channel":"{{channel}}","offset":{{offset}},"data":{{offset}}}""";

    private static string Reply(JsonElement command, string result) => $$"""{"id":{{command.GetProperty("id").GetUInt64()}},"result":{{result}}}""";

    private static string Recovered(ulong since, ulong offset, string epoch = Epoch) =>
        $$"""{"offset":{{offset}},"epoch":"{{epoch}}","recovered":true,"publications":[{{string.Join(",",
            Enumerable.Range((int)since + 1, (int)(offset - since)).Select(o => $$"""{"offset":{{o}},"data":{{o}}}"""))}}]}""";

    /// <summary>Connects the client, subscribes it to "c" at offset 3, and hands it publication 4 live.</summary>
    private static async Task<HeraldClient> SubscribedAtFourAsync(RawWebSocketServer server, string connectResult = """{"client":"c1"}""")
    {
        var client = Client(server);
        var connecting = client.ConnectAsync();
        await server.AcceptAsync();
        await server.SendTogetherAsync(Reply(await server.ExpectAsync("connect"), connectResult));
        await connecting.DefaultTimeout();
        var subscribing = client.SubscribeAsync("c");
        await server.SendTogetherAsync(Reply(await server.ExpectAsync("subscribe"), $$"""{"offset":3,"epoch":"{{Epoch}}"}"""), Pub("c", 4));
        await subscribing.DefaultTimeout();
        return client;
    }

    private static Task<List<ulong>> ReadAsync(HeraldClient client, int count) =>
        CollectAsync(client.ReadPublicationsAsync, count, p => p.Offset);

    /// <summary>The first <paramref name="count"/> items' offsets; fails, naming what did arrive, when the rest do not come.</summary>
    private static async Task<List<ulong>> CollectAsync<T>(Func<CancellationToken, IAsyncEnumerable<T>> read, int count, Func<T, ulong> offset)
    {
        var offsets = new List<ulong>();
        using var timeout = new CancellationTokenSource(Timeouts.Default);
        try
        {
            await foreach (var item in read(timeout.Token))
            {
                offsets.Add(offset(item));
                if (offsets.Count == count)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"only {string.Join(",", offsets)} arrived");
        }
        return offsets;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_resubscribe_reply_read_together_with_live_publications_delivers_each_once_in_order(bool pushesFirst)
    {
        await using var server = new RawWebSocketServer();
        await using var client = await SubscribedAtFourAsync(server);

        server.Drop();
        await server.AcceptAsync();
        await server.SendTogetherAsync(Reply(await server.ExpectAsync("connect"), """{"client":"c2"}"""));
        var subscribe = await server.ExpectAsync("subscribe");
        Assert.Equal(4UL, subscribe.GetProperty("params").GetProperty("since").GetProperty("offset").GetUInt64());
        var reply = Reply(subscribe, Recovered(since: 4, offset: 7));
        // Pushes before the reply can only repeat or follow what it recovers: 6 is a repeat, 8 and 9 follow.
        await server.SendTogetherAsync(pushesFirst ? [Pub("c", 8), Pub("c", 9), reply] : [reply, Pub("c", 8), Pub("c", 9)]);

        Assert.Equal([4UL, 5, 6, 7, 8, 9], await ReadAsync(client, 6));
        server.Drop(); // ends the test without the client's 2 s wait for a close handshake
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_inbox_of_the_connect_reply_read_together_with_a_live_inbox_push_delivers_each_entry_once_in_order(bool pushFirst)
    {
        await using var server = new RawWebSocketServer();
        await using var client = Client(server);
        var connecting = client.ConnectAsync();
        await server.AcceptAsync();
        var reply = Reply(await server.ExpectAsync("connect"),
            """{"client":"c1","user":"u","inbox":{"offset":3,"acked":0,"publications":[{"offset":1,"data":1},{"offset":2,"data":2},{"offset":3,"data":3}]}}""");
        const string live = """{"push":"inbox","offset":4,"data":4}""";
        await server.SendTogetherAsync(pushFirst ? [live, reply] : [reply, live]);
        await connecting.DefaultTimeout();

        var offsets = await CollectAsync(client.ReadInboxAsync, 4, e => e.Offset);
        Assert.Equal([1UL, 2, 3, 4], offsets);
        server.Drop(); // ends the test without the client's 2 s wait for a close handshake
    }

    [Fact]
    public async Task The_token_channels_are_recovered_through_connect_and_their_pushes_wait_for_its_reply()
    {
        await using var server = new RawWebSocketServer();
        await using var client = Client(server);
        var connecting = client.ConnectAsync();
        await server.AcceptAsync();
        await server.SendTogetherAsync(Reply(await server.ExpectAsync("connect"), "{\"client\":\"c1\",\"subs\":{\"t\":{\"offset\":2,\"epoch\":\"" + Epoch + "\"}}}"), Pub("t", 3));
        await connecting.DefaultTimeout();

        server.Drop();
        await server.AcceptAsync();
        var connect = await server.ExpectAsync("connect");
        Assert.Equal(3UL, connect.GetProperty("params").GetProperty("since").GetProperty("t").GetProperty("offset").GetUInt64());
        await server.SendTogetherAsync(Pub("t", 6), Reply(connect, """{"client":"c2","subs":{"t":""" + Recovered(since: 3, offset: 5) + "}}"), Pub("t", 7));

        Assert.Equal([3UL, 4, 5, 6, 7], await ReadAsync(client, 5));
        server.Drop(); // ends the test without the client's 2 s wait for a close handshake
    }

    [Fact]
    public async Task A_gap_in_live_offsets_is_closed_by_asking_the_server_for_what_was_missed()
    {
        await using var server = new RawWebSocketServer();
        await using var client = await SubscribedAtFourAsync(server);

        await server.SendTogetherAsync(Pub("c", 6), Pub("c", 7));
        var resync = await server.ExpectAsync("subscribe");
        Assert.Equal(4UL, resync.GetProperty("params").GetProperty("since").GetProperty("offset").GetUInt64());
        await server.SendTogetherAsync(Reply(resync, Recovered(since: 4, offset: 7)), Pub("c", 8));

        Assert.Equal([4UL, 5, 6, 7, 8], await ReadAsync(client, 5));
        server.Drop(); // ends the test without the client's 2 s wait for a close handshake
    }

    [Fact]
    public async Task A_new_epoch_in_live_offsets_raises_recovery_failed_and_continues_from_the_new_position()
    {
        await using var server = new RawWebSocketServer();
        await using var client = await SubscribedAtFourAsync(server);
        var failed = new List<string>();
        client.RecoveryFailed += (_, channel) => failed.Add(channel);

        await server.SendTogetherAsync(Pub("c", 1)); // the backend removed the history: offsets start again
        var resync = await server.ExpectAsync("subscribe");
        await server.SendTogetherAsync(Reply(resync, """{"offset":1,"epoch":"f1f1f1f1","recovered":false,"publications":[]}"""), Pub("c", 2));

        Assert.Equal([4UL, 2], await ReadAsync(client, 2));
        Assert.Equal(["c"], failed);
        server.Drop(); // ends the test without the client's 2 s wait for a close handshake
    }
}
