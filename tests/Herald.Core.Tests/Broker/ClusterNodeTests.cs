using Herald.Core.Channels;
using Herald.Core.Connections;
using Herald.Core.Control;
using Herald.Core.Engine;
using Herald.Protocol;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Core.Tests.Broker;

/// <summary>Nodes of one cluster in one process, on the in-memory broker: what a node does with what the broker hands it.</summary>
public sealed class ClusterNodeTests : IDisposable
{
    private readonly MemoryBrokerHub _hub = new();
    private readonly MemoryPresenceStore _presence = new();
    private readonly List<Node> _nodes = [];

    private (Node Node, IBroker Broker) NewNode(NodeOptions? options = null)
    {
        var broker = _hub.Connect();
        var node = new Node(options ?? new NodeOptions { HistorySize = 1_000_000 }, NullLogger<Node>.Instance, new NodeEngine { History = _hub.History, Inbox = _hub.Inbox, Presence = _presence, Broker = broker });
        _nodes.Add(node);
        node.BrokerReadyAsync().Wait();
        return (node, broker);
    }

    public void Dispose()
    {
        foreach (var node in _nodes)
        {
            node.Dispose();
        }
    }

    private static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting until " + what);
            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task A_plain_client_reached_through_two_channels_of_one_publish_gets_it_once()
    {
        var (a, _) = NewNode();
        var (b, _) = NewNode();
        var (plain, transport) = b.Plain();
        Assert.Equal(1, await b.ControlAsync(new SubscribeCommand(ControlTarget.Client(plain.Id), "one")));
        Assert.Equal(1, await b.ControlAsync(new SubscribeCommand(ControlTarget.Client(plain.Id), "two")));
        await Until(() => b.BrokerTopicCount == 3, "node B listens to both channels");

        var result = a.Publish("""{"channels":["one","two"],"data":"hello"}""");
        Assert.True(result.Succeeded, result.Error);
        Assert.Equal(-1, result.Recipients); // not known at the origin
        Assert.Equal(2, result.Positions!.Count);
        a.Publish("""{"channel":"two","data":"after"}""");

        await Until(() => transport.Texts.Contains("after"), "the second publish arrived");
        Assert.Equal(["hello", "after"], transport.Texts);
    }

    [Fact]
    public async Task Unsubscribing_drops_the_replay_mark_so_a_connection_churning_through_names_keeps_none()
    {
        var (b, _) = NewNode();
        var (native, transport) = b.Native();
        for (var i = 0; i < 50; i++)
        {
            b.Send(native, $$"""{"id":{{2 * i + 2}},"method":"subscribe","params":{"channel":"churn-{{i}}","since":{"offset":0,"epoch":""}""" + "}}");
            Assert.Equal(1, native.ReplayedCount);
            b.Send(native, $$"""{"id":{{2 * i + 3}},"method":"unsubscribe","params":{"channel":"churn-{{i}}"}""" + "}");
        }

        await Until(() => transport.Texts.Count(t => t.Contains("\"result\"", StringComparison.Ordinal)) == 101, "every command was answered");
        Assert.Equal(0, native.ReplayedCount);
    }

    [Fact]
    public async Task A_node_told_its_link_was_restored_sends_its_stream_receivers_to_recover()
    {
        var (a, _) = NewNode();
        var (b, brokerB) = NewNode();
        var (native, transport) = b.Native();
        b.Send(native, """{"id":2,"method":"subscribe","params":{"channel":"news"}}""");
        var (other, otherTransport) = b.Native();
        b.Send(other, """{"id":2,"method":"subscribe","params":{"channel":"news"}}""");

        _hub.Cut(brokerB);
        a.Publish("""{"channel":"news","data":1}""");
        _hub.Restore(brokerB);

        await Until(() => transport.CloseCode == DisconnectCodes.InsufficientState, "the subscriber was told to recover");
        Assert.Equal(DisconnectCodes.InsufficientState, otherTransport.CloseCode);
    }

    [Fact]
    public async Task A_gap_in_a_channels_offsets_sends_its_subscribers_to_recover_even_without_notice()
    {
        var (a, _) = NewNode();
        var (b, brokerB) = NewNode();
        var (native, transport) = b.Native();
        b.Send(native, """{"id":2,"method":"subscribe","params":{"channel":"news"}}""");
        a.Publish("""{"channel":"news","data":1}""");
        await Until(() => transport.Texts.Any(t => t.Contains("\"offset\":1", StringComparison.Ordinal)), "offset 1 arrived");

        _hub.Cut(brokerB);
        a.Publish("""{"channel":"news","data":2}""");
        _hub.Restore(brokerB, notify: false);
        a.Publish("""{"channel":"news","data":3}""");

        await Until(() => transport.CloseCode == DisconnectCodes.InsufficientState, "the gap was noticed");
        Assert.DoesNotContain(transport.Texts, t => t.Contains("\"offset\":3", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_recovering_subscriber_gets_each_offset_exactly_once_while_another_node_publishes()
    {
        var (a, _) = NewNode();
        var (b, _) = NewNode();
        using var stop = new CancellationTokenSource();
        var published = 0;
        var publisher = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                a.Publish("""{"channel":"feed","data":0}""");
                Interlocked.Increment(ref published);
            }
        });
        var transports = new List<RecordingTransport>();
        for (var i = 0; i < 8; i++)
        {
            // Each subscribes at another moment of the stream: every one of them is a chance for a publication to race the read.
            await Until(() => Volatile.Read(ref published) > 30 * (i + 1), "publishing");
            var (native, transport) = b.Native();
            b.Send(native, """{"id":2,"method":"subscribe","params":{"channel":"feed","since":{"offset":0,"epoch":""}}}""");
            transports.Add(transport);
        }
        await Task.Delay(50);
        await stop.CancelAsync();
        await publisher;
        var total = Volatile.Read(ref published);

        foreach (var transport in transports)
        {
            await Until(() => Offsets(transport).Count >= total, "every offset arrived");
            Assert.Contains(transport.Texts, t => t.Contains("\"recovered\":true", StringComparison.Ordinal));
            Assert.Equal(Enumerable.Range(1, total).Select(i => (ulong)i), Offsets(transport));
        }
    }

    [Fact]
    public async Task Publications_in_flight_during_a_recovery_read_are_not_sent_again()
    {
        var (a, _) = NewNode();
        var (b, brokerB) = NewNode();
        var (early, earlyTransport) = b.Native();
        b.Send(early, """{"id":2,"method":"subscribe","params":{"channel":"feed"}}""");
        a.Publish("""{"channel":"feed","data":1}""");
        a.Publish("""{"channel":"feed","data":2}""");
        await Until(() => Offsets(earlyTransport).Count == 2, "offsets 1 and 2 arrived");

        _hub.Hold(brokerB); // 3 and 4 are stored, but still on their way to node B when the recovery reads
        a.Publish("""{"channel":"feed","data":3}""");
        a.Publish("""{"channel":"feed","data":4}""");
        var epoch = (await _hub.History.GetPositionAsync("feed")).Epoch;
        var (late, lateTransport) = b.Native();
        b.Send(late, "{\"id\":2,\"method\":\"subscribe\",\"params\":{\"channel\":\"feed\",\"since\":{\"offset\":1,\"epoch\":\"" + epoch + "\"}}}");
        Assert.Equal([2UL, 3UL, 4UL], Offsets(lateTransport));
        _hub.Release(brokerB);
        a.Publish("""{"channel":"feed","data":5}""");

        await Until(() => Offsets(earlyTransport).Count == 5, "every offset reached the early subscriber");
        await Until(() => Offsets(lateTransport).Contains(5UL), "offset 5 reached the late subscriber");
        Assert.Equal([2UL, 3UL, 4UL, 5UL], Offsets(lateTransport));
    }

    private static NodeOptions JoinLeaveOptions() => new() { Namespaces = [new NamespaceOptions { Name = "chat", JoinLeave = true }] };

    /// <summary>What a broker of another node (of any build) received: the messages of the topics it subscribed to.</summary>
    private sealed class RecordingListener : IBrokerListener
    {
        public System.Collections.Concurrent.ConcurrentQueue<(BrokerTopic Topic, BrokerMessage Message)> Received { get; } = new();

        public ValueTask OnMessageAsync(BrokerTopic topic, BrokerMessage message)
        {
            Received.Enqueue((topic, message));
            return ValueTask.CompletedTask;
        }

        public void OnSubscriptionsRestored()
        {
        }

        public void OnMessagesMissed(BrokerTopic topic, string reason)
        {
        }
    }

    [Fact]
    public async Task A_join_sent_by_a_node_of_the_previous_build_reaches_native_subscribers_as_it_was_sent_and_plain_ones_not_at_all()
    {
        var (b, _) = NewNode(JoinLeaveOptions());
        var (native, nativeTransport) = b.Native();
        b.Send(native, """{"id":2,"method":"subscribe","params":{"channel":"chat:1"}}""");
        var (plain, plainTransport) = b.Plain();
        Assert.Equal(1, await b.ControlAsync(new SubscribeCommand(ControlTarget.Client(plain.Id), "chat:1")));
        await Until(() => b.BrokerTopicCount == 2, "node B listens to the channel");

        // The bytes a node of the previous build puts on the cluster wire for a join: the herald.v1 push itself.
        const string fromOldNode = """{"push":"join","channel":"chat:1","client":"old-7","user":"7","info":{"name":"Ann","tags":["a",1]}}""";
        var old = _hub.Connect();
        await old.PublishAsync(BrokerTopic.Channel("chat:1"), new BrokerMessage
        {
            Kind = BrokerMessageKind.Frame, Data = System.Text.Encoding.UTF8.GetBytes(fromOldNode), Origin = "old", Exclude = "old-7",
        }, null);

        await Until(() => nativeTransport.Texts.Contains(fromOldNode), "the native subscriber got the join as the old node sent it");
        Assert.DoesNotContain(plainTransport.Texts, t => t.Contains("\"push\"", StringComparison.Ordinal) || t.Contains("old-7", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_join_of_this_build_goes_on_the_cluster_wire_exactly_as_the_previous_build_sent_it()
    {
        var (b, _) = NewNode(JoinLeaveOptions());
        var old = _hub.Connect();
        var listener = new RecordingListener();
        old.Start(listener);
        await old.SubscribeAsync(BrokerTopic.Channel("chat:1"));

        var (native, _) = b.Native();
        b.Send(native, """{"id":2,"method":"subscribe","params":{"channel":"chat:1"}}""");
        b.Send(native, """{"id":3,"method":"unsubscribe","params":{"channel":"chat:1"}}""");

        await Until(() => listener.Received.Count(r => r.Message.Kind == BrokerMessageKind.Frame) == 2, "the old node received the join and the leave");
        var frames = listener.Received.Where(r => r.Message.Kind == BrokerMessageKind.Frame).Select(r => r.Message).ToList();
        Assert.Equal(ServerFrames.Presence(ProtocolNames.Pushes.Join, "chat:1", native.Id, "", default), frames[0].Data);
        Assert.Equal(ServerFrames.Presence(ProtocolNames.Pushes.Leave, "chat:1", native.Id, "", default), frames[1].Data);
        Assert.All(frames, f => Assert.Equal(native.Id, f.Exclude));
    }

    /// <summary>Offsets the connection got, in the order it got them: from the subscribe reply, then live.</summary>
    private static List<ulong> Offsets(RecordingTransport transport)
    {
        var offsets = new List<ulong>();
        foreach (var text in transport.Texts)
        {
            using var document = System.Text.Json.JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.TryGetProperty("result", out var result) && result.ValueKind == System.Text.Json.JsonValueKind.Object
                && result.TryGetProperty("publications", out var publications))
            {
                offsets.AddRange(publications.EnumerateArray().Select(p => p.GetProperty("offset").GetUInt64()));
            }
            else if (root.TryGetProperty("push", out var push) && push.GetString() == "pub")
            {
                offsets.Add(root.GetProperty("offset").GetUInt64());
            }
        }
        return offsets;
    }
}
