using Herald.Core.Engine;
using System.Text.Json;
using Herald.Core.Auth;
using Herald.Core.Channels;
using Herald.Core.Connections;
using Herald.Core.Routing;
using Herald.Protocol;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Core.Tests.Sessions;

public sealed class HistoryTests
{
    private const string Secret = "history-test-secret-0123456789abcdef";

    private static Node CreateNode(NodeOptions? options = null) =>
        new(options ?? new NodeOptions(), NullLogger<Node>.Instance, tokens: new JwtTokenVerifier(new TokenOptions { Secret = Secret }, 32));

    private static JsonElement Subscribe(Node node, Connection connection, RecordingTransport transport, string channel, string? since = null)
    {
        var sincePart = since is null ? "" : ",\"since\":" + since;
        node.Send(connection, "{\"id\":77,\"method\":\"subscribe\",\"params\":{\"channel\":\"" + channel + "\"" + sincePart + "}}");
        return JsonDocument.Parse(transport.Texts.Last(t => t.StartsWith("{\"id\":77", StringComparison.Ordinal))).RootElement.Clone();
    }

    [Fact]
    public void Publications_get_consecutive_offsets_and_live_pushes_carry_them()
    {
        using var node = CreateNode();
        var (connection, transport) = node.Native();
        var reply = Subscribe(node, connection, transport, "orders");

        var first = node.Publish("""{"channel":"orders","data":1}""");
        var second = node.Publish("""{"channel":"orders","data":2}""");

        Assert.Equal(0UL, reply.GetProperty("result").GetProperty("offset").GetUInt64());
        var epoch = reply.GetProperty("result").GetProperty("epoch").GetString();
        Assert.Equal(1UL, first.Positions!["orders"].Offset);
        Assert.Equal(2UL, second.Positions!["orders"].Offset);
        Assert.Equal(epoch, second.Positions["orders"].Epoch);
        Assert.Equal("""{"push":"pub","channel":"orders","offset":2,"data":2}""", transport.Texts.Last());
    }

    [Fact]
    public void Resubscribing_with_since_recovers_exactly_the_missed_publications_in_order()
    {
        using var node = CreateNode(new NodeOptions { HistorySize = 1000 });
        var (first, firstTransport) = node.Native();
        var reply = Subscribe(node, first, firstTransport, "orders");
        node.Publish("""{"channel":"orders","data":"seen"}""");
        var epoch = reply.GetProperty("result").GetProperty("epoch").GetString();
        node.OnClosed(first, 1006, null);

        for (var i = 0; i < 500; i++)
        {
            node.Publish($$"""{"channel":"orders","data":{{i}}}""");
        }
        var (second, transport) = node.Native();
        var recovery = Subscribe(node, second, transport, "orders", $$"""{"offset":1,"epoch":"{{epoch}}"}""").GetProperty("result");
        node.Publish("""{"channel":"orders","data":"live"}""");

        Assert.True(recovery.GetProperty("recovered").GetBoolean());
        Assert.Equal(501UL, recovery.GetProperty("offset").GetUInt64());
        var replayed = recovery.GetProperty("publications").EnumerateArray().ToList();
        Assert.Equal(500, replayed.Count);
        for (var i = 0; i < 500; i++)
        {
            Assert.Equal((ulong)(i + 2), replayed[i].GetProperty("offset").GetUInt64());
            Assert.Equal(i, replayed[i].GetProperty("data").GetInt32());
        }
        Assert.Equal("""{"push":"pub","channel":"orders","offset":502,"data":"live"}""", transport.Texts.Last());
    }

    [Theory]
    [InlineData("trimmed")]
    [InlineData("other epoch")]
    [InlineData("future offset")]
    public void Recovery_that_cannot_close_the_gap_says_recovered_false_and_replays_nothing(string situation)
    {
        using var node = CreateNode(new NodeOptions { HistorySize = 10 });
        var epoch = node.Publish("""{"channel":"c","data":0}""").Positions!["c"].Epoch;
        for (var i = 1; i < 30; i++)
        {
            node.Publish($$"""{"channel":"c","data":{{i}}}""");
        }
        var since = situation switch
        {
            "trimmed" => $$"""{"offset":5,"epoch":"{{epoch}}"}""",
            "other epoch" => """{"offset":29,"epoch":"not-this-one"}""",
            _ => $$"""{"offset":999,"epoch":"{{epoch}}"}""",
        };
        var (connection, transport) = node.Native();

        var result = Subscribe(node, connection, transport, "c", since).GetProperty("result");

        Assert.False(result.GetProperty("recovered").GetBoolean());
        Assert.Equal(0, result.GetProperty("publications").GetArrayLength());
        Assert.Equal(30UL, result.GetProperty("offset").GetUInt64());
        Assert.Equal(epoch, result.GetProperty("epoch").GetString());
    }

    [Fact]
    public void Malformed_since_is_a_bad_request()
    {
        using var node = CreateNode();
        var (connection, transport) = node.Native();

        var reply = Subscribe(node, connection, transport, "c", """{"offset":"five"}""");

        Assert.Equal(ErrorCodes.BadRequest, reply.GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public void A_namespace_can_turn_history_off()
    {
        using var node = CreateNode(new NodeOptions { Namespaces = [new NamespaceOptions { Name = "live", HistorySize = 0 }] });
        var (connection, transport) = node.Native();
        var reply = Subscribe(node, connection, transport, "live:ticker");

        var result = node.Publish("""{"channel":"live:ticker","data":1}""");

        Assert.False(reply.GetProperty("result").TryGetProperty("offset", out _));
        Assert.Null(result.Positions);
        Assert.Equal("""{"push":"pub","channel":"live:ticker","data":1}""", transport.Texts.Last());
        Assert.Throws<NodeRequestException>(() => node.HistoryAsync("live:ticker", 10, 0, false).AsTask().GetAwaiter().GetResult());
    }

    [Fact]
    public async Task History_reads_oldest_or_newest_first_and_remove_starts_a_new_epoch()
    {
        using var node = CreateNode();
        for (var i = 1; i <= 5; i++)
        {
            node.Publish($$"""{"channel":"c","data":{{i}}}""");
        }

        var since = await node.HistoryAsync("c", 2, 2, newestFirst: false);
        var newest = await node.HistoryAsync("c", 2, 0, newestFirst: true);
        var before = since.Position.Epoch;
        await node.RemoveHistoryAsync("c");
        var after = node.Publish("""{"channel":"c","data":"fresh"}""").Positions!["c"];

        Assert.Equal([3UL, 4UL], since.Publications.Select(p => p.Offset));
        Assert.Equal([5UL, 4UL], newest.Publications.Select(p => p.Offset));
        Assert.Equal(1UL, after.Offset);
        Assert.NotEqual(before, after.Epoch);
    }

    [Fact]
    public async Task An_offline_user_gets_the_inbox_on_connect_and_acknowledged_entries_never_again()
    {
        using var node = CreateNode();
        for (var i = 1; i <= 3; i++)
        {
            node.Publish("{\"user\":\"42\",\"data\":{\"approval\":" + i + "}}");
        }
        var token = TokenIssuer.Create(Secret, "42", TimeSpan.FromHours(1));

        var (first, firstTransport) = Connect(node, token);
        var inbox = JsonDocument.Parse(firstTransport.Texts.First()).RootElement.GetProperty("result").GetProperty("inbox");
        node.Send(first, """{"id":5,"method":"inbox_ack","params":{"offset":3}}""");
        var ack = JsonDocument.Parse(firstTransport.Texts.Last()).RootElement;
        node.OnClosed(first, 1000, null);
        var (_, secondTransport) = Connect(node, token);
        var again = JsonDocument.Parse(secondTransport.Texts.First()).RootElement.GetProperty("result").GetProperty("inbox");

        Assert.Equal(3, inbox.GetProperty("publications").GetArrayLength());
        Assert.Equal([1, 2, 3], inbox.GetProperty("publications").EnumerateArray().Select(p => p.GetProperty("data").GetProperty("approval").GetInt32()));
        Assert.Equal(3UL, ack.GetProperty("result").GetProperty("acked").GetUInt64());
        Assert.Equal(0, again.GetProperty("publications").GetArrayLength());
        Assert.Equal(3UL, again.GetProperty("acked").GetUInt64());
        var page = await node.InboxAsync("42", null, 10);
        Assert.Empty(page.Publications);
        Assert.Equal(3, (await node.InboxAsync("42", 0, 10)).Publications.Count);
    }

    [Fact]
    public void A_repeated_idempotency_key_is_acknowledged_again_but_stored_and_delivered_once()
    {
        using var node = CreateNode();
        var (connection, transport) = node.Native();
        Subscribe(node, connection, transport, "orders");

        var first = node.Publish("""{"channel":"orders","data":"pay","idempotency_key":"order-42-paid"}""");
        var repeat = node.Publish("""{"channel":"orders","data":"pay","idempotency_key":"order-42-paid"}""");
        var other = node.Publish("""{"channel":"orders","data":"ship","idempotency_key":"order-42-shipped"}""");

        Assert.False(first.Duplicate);
        Assert.True(repeat.Duplicate);
        Assert.Equal(first.Positions!["orders"], repeat.Positions!["orders"]);
        Assert.Equal(2UL, other.Positions!["orders"].Offset);
        Assert.Equal(2, transport.Texts.Count(t => t.Contains("\"push\":\"pub\"", StringComparison.Ordinal)));
    }

    [Fact]
    public void Connect_recovers_the_channels_from_the_token()
    {
        using var node = CreateNode();
        var epoch = node.Publish("""{"channel":"orders","data":1}""").Positions!["orders"].Epoch;
        node.Publish("""{"channel":"orders","data":2}""");
        var token = TokenIssuer.Create(Secret, "42", TimeSpan.FromHours(1), channels: ["orders"]);

        var transport = new RecordingTransport();
        var connection = node.Open(transport, ConnectionKind.Native, "127.0.0.1:1");
        node.Send(connection, "{\"id\":1,\"method\":\"connect\",\"params\":{\"token\":\"" + token + "\",\"since\":{\"orders\":{\"offset\":1,\"epoch\":\"" + epoch + "\"}}}}");
        var subs = JsonDocument.Parse(transport.Texts.First()).RootElement.GetProperty("result").GetProperty("subs").GetProperty("orders");

        Assert.True(subs.GetProperty("recovered").GetBoolean());
        Assert.Equal(2, Assert.Single(subs.GetProperty("publications").EnumerateArray().ToList()).GetProperty("data").GetInt32());
    }

    [Fact]
    public void Empty_user_ids_are_refused_rather_than_ignored()
    {
        Assert.False(PublishRequestParser.TryParse("""{"user":"","where":{},"data":1}"""u8, out _, out var code, out _));
        Assert.Equal(ErrorCodes.BadRequest, code);
    }

    private static (Connection, RecordingTransport) Connect(Node node, string token)
    {
        var transport = new RecordingTransport();
        var connection = node.Open(transport, ConnectionKind.Native, "127.0.0.1:1");
        node.Send(connection, "{\"id\":1,\"method\":\"connect\",\"params\":{\"token\":\"" + token + "\"}}");
        return (connection, transport);
    }

    [Fact]
    public void Connect_with_since_naming_only_some_or_none_of_the_token_channels_works()
    {
        using var node = CreateNode();
        node.Publish("""{"channel":"a","data":1}""");
        var token = TokenIssuer.Create(Secret, "42", TimeSpan.FromHours(1), channels: ["a", "b"]);

        var transport = new RecordingTransport();
        var connection = node.Open(transport, ConnectionKind.Native, "127.0.0.1:1");
        node.Send(connection, "{\"id\":1,\"method\":\"connect\",\"params\":{\"token\":\"" + token + "\",\"since\":{}}}");
        var subs = JsonDocument.Parse(transport.Texts.First()).RootElement.GetProperty("result").GetProperty("subs");

        Assert.Equal(1UL, subs.GetProperty("a").GetProperty("offset").GetUInt64());
        Assert.False(subs.GetProperty("a").TryGetProperty("recovered", out _));
        Assert.True(subs.TryGetProperty("b", out _));
    }

    [Fact]
    public async Task Publishes_narrowed_by_where_are_delivered_live_but_never_stored()
    {
        using var node = CreateNode();
        var (teacher, teacherTransport) = node.Native("""{"role":"teacher"}""");
        Subscribe(node, teacher, teacherTransport, "school");

        var result = node.Publish("""{"channel":"school","where":{"role":"teacher"},"data":"teachers only"}""");
        var history = await node.HistoryAsync("school", 10, 0, false);

        Assert.Null(result.Positions);
        Assert.Equal("""{"push":"pub","channel":"school","data":"teachers only"}""", teacherTransport.Texts.Last());
        Assert.Empty(history.Publications);
    }

    [Fact]
    public void When_storage_fails_live_delivery_goes_on_and_the_publish_says_114_until_a_write_works_again()
    {
        var failing = new FailingHistoryStore();
        using var node = new Node(new NodeOptions(), NullLogger<Node>.Instance, new NodeEngine { History = failing });
        var (connection, transport) = node.Native();
        Subscribe(node, connection, transport, "orders");

        failing.Failing = true;
        var refused = node.Publish("""{"channel":"orders","data":"while the disk is full"}""");
        var errorWhileDown = node.StoreError;
        failing.Failing = false;
        var accepted = node.Publish("""{"channel":"orders","data":"after"}""");

        Assert.Equal(ErrorCodes.StoreUnavailable, refused.ErrorCode);
        Assert.Equal(1, refused.Recipients);
        Assert.Contains("""{"push":"pub","channel":"orders","data":"while the disk is full"}""", transport.Texts);
        Assert.NotNull(errorWhileDown);
        Assert.True(accepted.Succeeded);
        Assert.Null(node.StoreError);
    }

    private sealed class FailingHistoryStore : Engine.IHistoryStore
    {
        private readonly Engine.MemoryHistoryStore _inner = new();

        public bool Failing { get; set; }

        public ValueTask<Engine.StreamPosition> AppendAsync(string channel, byte[] data, Engine.RetentionLimits limits, string? eventName = null, CancellationToken cancellation = default) =>
            Failing ? throw new Engine.StoreUnavailableException("disk full") : _inner.AppendAsync(channel, data, limits, eventName, cancellation);

        public ValueTask<Engine.HistoryPage> ReadAsync(string channel, ulong sinceOffset, int limit, bool newestFirst, CancellationToken cancellation = default) =>
            _inner.ReadAsync(channel, sinceOffset, limit, newestFirst, cancellation);

        public ValueTask<Engine.StreamPosition> GetPositionAsync(string channel, CancellationToken cancellation = default) => _inner.GetPositionAsync(channel, cancellation);

        public ValueTask RemoveAsync(string channel, CancellationToken cancellation = default) => _inner.RemoveAsync(channel, cancellation);
    }
}
