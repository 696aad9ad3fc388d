using Herald.Engine.Contracts.Infrastructure;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Herald.Core.Engine;

namespace Herald.Engine.Contracts.Engine;

/// <summary>
/// The guarantees of the single-node engine's broker (<see cref="LocalBroker"/>), run over each store it is used with:
/// a stream publish is stored before the node gets it and arrives with its position; one stream's publications reach
/// the node in offset order, one at a time, however many publishers race; a publish completes once the node has it;
/// the node gets only the topics it subscribed to, as the very objects published; and a store failure still reaches
/// the live node, without an offset, before the publisher hears of it.
/// </summary>
public abstract class LocalBrokerContract : IDisposable
{
    private static readonly RetentionLimits Keep = new(1000, TimeSpan.FromHours(1));

    private readonly Lazy<(IHistoryStore History, IInboxStore Inbox)> _stores;

    protected LocalBrokerContract() => _stores = new(CreateStores);

    protected abstract (IHistoryStore History, IInboxStore Inbox) CreateStores();

    protected IHistoryStore History => _stores.Value.History;

    protected IInboxStore Inbox => _stores.Value.Inbox;

    public virtual void Dispose() => GC.SuppressFinalize(this);

    /// <summary>Records what the node gets; each delivery takes a little while, to show whether two of one stream overlap.</summary>
    private sealed class Node(Func<BrokerTopic, BrokerMessage, Task>? check = null) : IBrokerListener
    {
        private int _inside;

        public ConcurrentQueue<(BrokerTopic Topic, BrokerMessage Message)> Messages { get; } = new();

        public int Overlaps;

        public async ValueTask OnMessageAsync(BrokerTopic topic, BrokerMessage message)
        {
            if (Interlocked.Increment(ref _inside) > 1)
            {
                Interlocked.Increment(ref Overlaps);
            }
            if (check is not null)
            {
                await check(topic, message);
            }
            await Task.Yield();
            Messages.Enqueue((topic, message));
            Interlocked.Decrement(ref _inside);
        }

        public void OnSubscriptionsRestored() => throw new InvalidOperationException("a local broker never loses its node");

        public void OnMessagesMissed(BrokerTopic topic, string reason) => throw new InvalidOperationException("a local broker never misses: " + reason);
    }

    private static BrokerMessage Message(string data) => new()
    {
        Kind = BrokerMessageKind.Publication,
        Data = Encoding.UTF8.GetBytes(data),
        Origin = "n1",
        Targets = 2,
        Where = Encoding.UTF8.GetBytes("""{"k":["v"]}"""),
    };

    [Fact]
    public async Task Racing_stream_publishes_reach_the_node_one_at_a_time_in_offset_order_each_after_it_is_stored()
    {
        var topic = BrokerTopic.Channel("orders");
        LocalBroker? broker = null;
        var node = new Node(async (_, message) =>
        {
            // Stored before the node gets it: the store already has this offset.
            var page = await History.ReadAsync("orders", message.Offset - 1, 1, newestFirst: false);
            Assert.Equal(message.Offset, Assert.Single(page.Publications).Offset);
        });
        broker = new LocalBroker(History, Inbox);
        broker.Start(node);
        await broker.SubscribeAsync(topic);

        var sends = Enumerable.Range(1, 60).Select(i => Task.Run(() => broker.PublishAsync(topic, Message(i.ToString(CultureInfo.InvariantCulture)), Keep).AsTask())).ToList();
        var positions = await Task.WhenAll(sends).DefaultTimeout();

        // Each publish completed once delivered: all 60 are there now, without waiting.
        Assert.Equal(60, node.Messages.Count);
        Assert.Equal(0, node.Overlaps);
        Assert.Equal(Enumerable.Range(1, 60).Select(i => (ulong)i), positions.Select(p => p.Offset).Order());
        Assert.Equal(Enumerable.Range(1, 60).Select(i => (ulong)i), node.Messages.Select(m => m.Message.Offset));
        var stored = await History.ReadAsync("orders", 0, 100, newestFirst: false).DefaultTimeout();
        Assert.All(node.Messages, m => Assert.Equal(stored.Position.Epoch, m.Message.Epoch));
        Assert.Equal(stored.Publications.Select(p => Encoding.UTF8.GetString(p.Data)), node.Messages.Select(m => Encoding.UTF8.GetString(m.Message.Data)));
    }

    [Fact]
    public async Task Inbox_publishes_are_stored_and_carry_the_inbox_offset()
    {
        var node = new Node();
        var broker = new LocalBroker(History, Inbox);
        broker.Start(node);
        var topic = BrokerTopic.User("u1");
        await broker.SubscribeAsync(topic);

        var first = await broker.PublishAsync(topic, Message("1"), Keep).DefaultTimeout();
        var second = await broker.PublishAsync(topic, Message("2"), Keep).DefaultTimeout();

        Assert.Equal((1UL, 2UL), (first.Offset, second.Offset));
        Assert.Equal([1UL, 2UL], node.Messages.Select(m => m.Message.Offset));
        Assert.Equal(2, (await Inbox.ReadAsync("u1", null, 10).DefaultTimeout()).Publications.Count);
    }

    [Fact]
    public async Task The_node_gets_only_the_topics_it_subscribed_to_as_the_objects_published()
    {
        var node = new Node();
        var broker = new LocalBroker(History, Inbox);
        broker.Start(node);
        await broker.SubscribeAsync(BrokerTopic.Channel("mine"));
        await broker.SubscribeAsync(BrokerTopic.Broadcast);

        await broker.PublishAsync(BrokerTopic.Channel("other"), Message("1"), Keep).DefaultTimeout();
        await broker.PublishAsync(BrokerTopic.User("someone"), Message("2"), Keep).DefaultTimeout();
        var live = Message("3");
        await broker.PublishAsync(BrokerTopic.Channel("mine"), live, null).DefaultTimeout();
        var stored = Message("4");
        await broker.PublishAsync(BrokerTopic.Channel("mine"), stored, Keep).DefaultTimeout();
        await broker.PublishAsync(BrokerTopic.Broadcast, Message("5"), null).DefaultTimeout();
        await broker.UnsubscribeAsync(BrokerTopic.Channel("mine"));
        await broker.PublishAsync(BrokerTopic.Channel("mine"), Message("6"), null).DefaultTimeout();

        Assert.Equal(["3", "4", "5"], node.Messages.Select(m => Encoding.UTF8.GetString(m.Message.Data)));
        var got = node.Messages.ToArray();
        Assert.Same(live, got[0].Message); // nothing to add to a message that is not stored: no copy
        Assert.Same(stored.Data, got[1].Message.Data); // a stored one gets its position, the rest as published
        Assert.Equal((stored.Origin, stored.Targets, stored.Where), (got[1].Message.Origin, got[1].Message.Targets, got[1].Message.Where));
        Assert.Equal(1UL, got[1].Message.Offset);
        Assert.True(broker.IsLocal);
        Assert.True(broker.IsConnected);
    }

    [Fact]
    public async Task A_failing_store_still_reaches_the_live_node_without_an_offset_then_the_publisher_hears_of_it()
    {
        var node = new Node();
        var broker = new LocalBroker(new FailingHistory(), Inbox);
        broker.Start(node);
        var topic = BrokerTopic.Channel("orders");
        await broker.SubscribeAsync(topic);

        var failure = await Assert.ThrowsAsync<StoreUnavailableException>(() => broker.PublishAsync(topic, Message("1"), Keep).AsTask()).DefaultTimeout();

        Assert.True(failure.DeliveredLive);
        Assert.Contains("disk full", failure.Message, StringComparison.Ordinal);
        var (_, message) = Assert.Single(node.Messages);
        Assert.Equal((0UL, ""), (message.Offset, message.Epoch));
    }

    private sealed class FailingHistory : IHistoryStore
    {
        public ValueTask<StreamPosition> AppendAsync(string channel, byte[] data, RetentionLimits limits, string? eventName = null, CancellationToken cancellation = default) =>
            ValueTask.FromException<StreamPosition>(new StoreUnavailableException("disk full (test)"));

        public ValueTask<HistoryPage> ReadAsync(string channel, ulong sinceOffset, int limit, bool newestFirst, CancellationToken cancellation = default) =>
            throw new NotSupportedException();

        public ValueTask<StreamPosition> GetPositionAsync(string channel, CancellationToken cancellation = default) => throw new NotSupportedException();

        public ValueTask RemoveAsync(string channel, CancellationToken cancellation = default) => throw new NotSupportedException();
    }
}

public sealed class LocalBrokerOnMemoryTests : LocalBrokerContract
{
    protected override (IHistoryStore History, IInboxStore Inbox) CreateStores() => (new MemoryHistoryStore(), new MemoryInboxStore());
}

public sealed class LocalBrokerOnSqliteTests : LocalBrokerContract
{
    private readonly SqliteStoreOnDisk _sqlite = new();

    protected override (IHistoryStore History, IInboxStore Inbox) CreateStores() => (_sqlite.Open().History, _sqlite.Open().Inbox);

    public override void Dispose()
    {
        _sqlite.Dispose();
        base.Dispose();
    }
}
