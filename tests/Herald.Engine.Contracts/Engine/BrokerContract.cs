using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Herald.Core.Engine;
using Herald.Engine.Contracts.Infrastructure;

namespace Herald.Engine.Contracts.Engine;

/// <summary>
/// The guarantees of <see cref="IBroker"/>, written once and run against every implementation: a stream publish is
/// stored before it is delivered and arrives with its offset and epoch, a topic's messages reach every subscribed node
/// in offset order, a node receives only the topics it subscribed to, and every field of a message survives the trip.
/// </summary>
public abstract class BrokerContract : IAsyncLifetime
{
    private Cluster? _cluster;

    /// <summary>Two nodes' brokers on one backend, and the stores they write to.</summary>
    protected sealed record Cluster(IBroker A, IBroker B, IHistoryStore History, IInboxStore Inbox, IAsyncDisposable? Owner);

    protected abstract Task<Cluster> CreateClusterAsync();

    protected Cluster Nodes => _cluster ?? throw new InvalidOperationException("not created");

    public async Task InitializeAsync() => _cluster = await CreateClusterAsync();

    public async Task DisposeAsync()
    {
        if (_cluster?.Owner is { } owner)
        {
            await owner.DisposeAsync();
        }
    }

    protected sealed class Recorder : IBrokerListener
    {
        public ConcurrentQueue<(BrokerTopic Topic, BrokerMessage Message)> Messages { get; } = new();

        public ValueTask OnMessageAsync(BrokerTopic topic, BrokerMessage message)
        {
            Messages.Enqueue((topic, message));
            return ValueTask.CompletedTask;
        }

        public void OnSubscriptionsRestored()
        {
        }

        public ConcurrentQueue<string> Missed { get; } = new();

        public void OnMessagesMissed(BrokerTopic topic, string reason) => Missed.Enqueue(topic + ": " + reason);

        public Task UntilAsync(int count) => Timeouts.UntilAsync(() => Task.FromResult(Messages.Count >= count), $"{count} messages arrived");
    }

    protected static BrokerMessage Message(string data, BrokerMessageKind kind = BrokerMessageKind.Publication) => new()
    {
        Kind = kind,
        Data = Encoding.UTF8.GetBytes(data),
        Origin = "node-a",
        PublishId = "node-a.1",
        Targets = 3,
        DataIsString = data.StartsWith('"'),
        Where = Encoding.UTF8.GetBytes("""{"k":["v"]}"""),
        Exclude = "node-a-9",
    };

    private static readonly RetentionLimits Keep = new(1000, TimeSpan.FromHours(1));

    private (Recorder A, Recorder B) Start()
    {
        var (a, b) = (new Recorder(), new Recorder());
        Nodes.A.Start(a);
        Nodes.B.Start(b);
        return (a, b);
    }

    [Fact]
    public async Task Concurrent_stream_publishes_from_two_nodes_reach_every_subscriber_in_offset_order_as_stored()
    {
        var (a, b) = Start();
        var topic = BrokerTopic.Channel("orders");
        await Nodes.A.SubscribeAsync(topic).DefaultTimeout();
        await Nodes.B.SubscribeAsync(topic).DefaultTimeout();

        var sends = Enumerable.Range(1, 40).Select(i =>
            (i % 2 == 0 ? Nodes.A : Nodes.B).PublishAsync(topic, Message(i.ToString(CultureInfo.InvariantCulture)), Keep).AsTask()).ToList();
        var positions = await Task.WhenAll(sends).DefaultTimeout();
        await a.UntilAsync(40);
        await b.UntilAsync(40);
        Assert.Empty(a.Missed);
        Assert.Empty(b.Missed);

        Assert.Equal(Enumerable.Range(1, 40).Select(i => (ulong)i), positions.Select(p => p.Offset).Order());
        var stored = await Nodes.History.ReadAsync("orders", 0, 100, newestFirst: false).DefaultTimeout();
        foreach (var recorder in new[] { a, b })
        {
            var received = recorder.Messages.Select(m => m.Message).ToList();
            Assert.Equal(Enumerable.Range(1, 40).Select(i => (ulong)i), received.Select(m => m.Offset));
            Assert.All(received, m => Assert.Equal(stored.Position.Epoch, m.Epoch));
            Assert.Equal(stored.Publications.Select(p => Encoding.UTF8.GetString(p.Data)), received.Select(m => Encoding.UTF8.GetString(m.Data)));
        }
    }

    [Fact]
    public async Task Every_field_of_a_message_arrives_and_plain_publishes_carry_no_offset()
    {
        var (_, b) = Start();
        await Nodes.B.SubscribeAsync(BrokerTopic.Broadcast).DefaultTimeout();
        var sent = Message("\"a|b\"", BrokerMessageKind.Frame);
        Assert.Equal(default, await Nodes.A.PublishAsync(BrokerTopic.Broadcast, sent, null).DefaultTimeout());
        await b.UntilAsync(1);

        var got = Assert.Single(b.Messages);
        Assert.Equal(BrokerTopic.Broadcast, got.Topic);
        Assert.Equal((sent.Kind, 0UL, "", sent.Origin, sent.PublishId, sent.Targets, sent.DataIsString, sent.Exclude),
            (got.Message.Kind, got.Message.Offset, got.Message.Epoch, got.Message.Origin, got.Message.PublishId, got.Message.Targets, got.Message.DataIsString, got.Message.Exclude));
        Assert.Equal(sent.Where, got.Message.Where);
        Assert.Equal(sent.Data, got.Message.Data);
    }

    [Fact]
    public async Task A_node_receives_only_the_topics_it_subscribed_to()
    {
        var (_, b) = Start();
        await Nodes.B.SubscribeAsync(BrokerTopic.Channel("mine")).DefaultTimeout();
        await Nodes.A.PublishAsync(BrokerTopic.Channel("other"), Message("1"), Keep).DefaultTimeout();
        await Nodes.A.PublishAsync(BrokerTopic.User("someone"), Message("2"), Keep).DefaultTimeout();
        await Nodes.A.PublishAsync(BrokerTopic.Broadcast, Message("3"), null).DefaultTimeout();
        await Nodes.A.PublishAsync(BrokerTopic.Channel("mine"), Message("4"), null).DefaultTimeout();
        await b.UntilAsync(1);

        await Nodes.B.UnsubscribeAsync(BrokerTopic.Channel("mine")).DefaultTimeout();
        await Nodes.A.PublishAsync(BrokerTopic.Channel("mine"), Message("5"), null).DefaultTimeout();
        await Nodes.B.SubscribeAsync(BrokerTopic.Channel("marker")).DefaultTimeout();
        await Nodes.A.PublishAsync(BrokerTopic.Channel("marker"), Message("6"), null).DefaultTimeout();
        await b.UntilAsync(2);

        Assert.Equal(["4", "6"], b.Messages.Select(m => Encoding.UTF8.GetString(m.Message.Data)));
    }

    [Fact]
    public async Task A_publication_s_event_and_exclusion_arrive_with_it_and_the_event_is_stored_with_it()
    {
        var (_, b) = Start();
        var (channel, user) = (BrokerTopic.Channel("orders"), BrokerTopic.User("u1"));
        await Nodes.B.SubscribeAsync(channel).DefaultTimeout();
        await Nodes.B.SubscribeAsync(user).DefaultTimeout();
        await Nodes.B.SubscribeAsync(BrokerTopic.Broadcast).DefaultTimeout();
        var named = Message("{\"n\":1}");
        var sent = new BrokerMessage
        {
            Kind = named.Kind, Data = named.Data, Origin = named.Origin, Targets = 1,
            Event = "App\\Events\\Order|Paid %7C x", Exclude = "123.456",
        };
        await Nodes.A.PublishAsync(channel, sent, Keep).DefaultTimeout();
        await Nodes.A.PublishAsync(user, sent, Keep).DefaultTimeout();
        await Nodes.A.PublishAsync(BrokerTopic.Broadcast, sent, null).DefaultTimeout();
        await Nodes.A.PublishAsync(channel, Message("2"), Keep).DefaultTimeout();
        await b.UntilAsync(4);

        // Topics are not ordered against each other: each topic's messages are compared on their own.
        (string? Event, string Exclude)[] Received(BrokerTopic topic) =>
            [.. b.Messages.Where(m => m.Topic == topic).Select(m => (m.Message.Event, m.Message.Exclude))];
        Assert.Equal([(sent.Event, "123.456"), (null, "node-a-9")], Received(channel));
        Assert.Equal([(sent.Event, "123.456")], Received(user));
        Assert.Equal([(sent.Event, "123.456")], Received(BrokerTopic.Broadcast));
        var history = await Nodes.History.ReadAsync("orders", 0, 10, newestFirst: false).DefaultTimeout();
        Assert.Equal([sent.Event, null], history.Publications.Select(p => p.Event));
        var inbox = await Nodes.Inbox.ReadAsync("u1", null, 10).DefaultTimeout();
        Assert.Equal(sent.Event, Assert.Single(inbox.Publications).Event);
    }

    [Fact]
    public async Task Inbox_publishes_are_stored_and_carry_the_inbox_offset()
    {
        var (_, b) = Start();
        var topic = BrokerTopic.User("u1");
        await Nodes.B.SubscribeAsync(topic).DefaultTimeout();
        var first = await Nodes.A.PublishAsync(topic, Message("1"), Keep).DefaultTimeout();
        var second = await Nodes.A.PublishAsync(topic, Message("2"), Keep).DefaultTimeout();
        await b.UntilAsync(2);

        Assert.Equal((1UL, 2UL), (first.Offset, second.Offset));
        Assert.Equal([1UL, 2UL], b.Messages.Select(m => m.Message.Offset));
        Assert.Equal(2, (await Nodes.Inbox.ReadAsync("u1", null, 10).DefaultTimeout()).Publications.Count);
    }
}

public sealed class MemoryBrokerTests : BrokerContract
{
    private readonly MemoryBrokerHub _hub = new();

    protected override Task<Cluster> CreateClusterAsync() =>
        Task.FromResult(new Cluster(_hub.Connect(), _hub.Connect(), _hub.History, _hub.Inbox, null));

    [Fact]
    public async Task A_gap_in_one_subscriptions_offsets_is_reported_before_the_message_after_it()
    {
        var b = new Recorder();
        Nodes.A.Start(new Recorder());
        Nodes.B.Start(b);
        var topic = BrokerTopic.Channel("news");
        await Nodes.B.SubscribeAsync(topic).DefaultTimeout();
        var keep = new RetentionLimits(10, TimeSpan.FromHours(1));
        await Nodes.A.PublishAsync(topic, Message("1"), keep).DefaultTimeout();
        _hub.Cut(Nodes.B);
        await Nodes.A.PublishAsync(topic, Message("2"), keep).DefaultTimeout();
        _hub.Restore(Nodes.B, notify: false);
        await Nodes.A.PublishAsync(topic, Message("3"), keep).DefaultTimeout();
        await b.UntilAsync(2);

        Assert.Equal([1UL, 3UL], b.Messages.Select(m => m.Message.Offset));
        Assert.Equal(["channel \"news\": offset 3 arrived after 1"], b.Missed);
    }
}

[Collection(RedisCollection.Name)]
public sealed class RedisBrokerContractTests(RedisEngineFixture redis) : BrokerContract
{
    protected override async Task<Cluster> CreateClusterAsync()
    {
        var prefix = RedisEngineFixture.NewPrefix();
        var a = await redis.ConnectAsync(new CapturedLogs(), prefix: prefix);
        var b = await redis.ConnectAsync(new CapturedLogs(), prefix: prefix);
        return new Cluster(a.Broker, b.Broker, a.History, a.Inbox, new Both(a, b));
    }

    private sealed class Both(IAsyncDisposable a, IAsyncDisposable b) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await a.DisposeAsync();
            await b.DisposeAsync();
        }
    }
}
