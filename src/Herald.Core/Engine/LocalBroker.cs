using System.Collections.Concurrent;

namespace Herald.Core.Engine;

/// <summary>
/// The single-node engine as a broker: one node, its history and inboxes in a store of this process (memory or SQLite).
/// The node publishes through it exactly as through Redis, so ordering, storing before delivering and the delivery code
/// above <see cref="IBroker"/> are the same on one node and in a cluster. It keeps every guarantee of <see cref="IBroker"/>:
/// appends to one stream start one at a time in arrival order (so the store assigns offsets in that order), may be in
/// flight together (the SQLite writer commits them in one transaction), and are handed to the node strictly in offset
/// order, each after it is stored. Deliveries run on the publisher's thread, and <see cref="PublishAsync"/> completes
/// once the node has delivered, so the publisher learns how many connections it reached.
/// </summary>
/// <remarks>
/// One promise differs from a cluster's broker, on purpose: when the store fails, the publication is still delivered
/// live (without an offset) before <see cref="StoreUnavailableException"/> is thrown with
/// <see cref="StoreUnavailableException.DeliveredLive"/> set. A single node has no other way to reach its clients, and
/// the live clients lose nothing by it; a cluster's broker cannot deliver without reaching Redis.
/// </remarks>
public sealed class LocalBroker : IBroker
{
    private readonly IHistoryStore _history;
    private readonly IInboxStore _inbox;
    private readonly StreamPipes _channelPipes;
    private readonly StreamPipes _userPipes;
    private readonly ConcurrentDictionary<BrokerTopic, byte> _subscribed = new();
    private volatile bool _broadcastSubscribed; // asked on every attribute-targeted publish: a field, not a lookup
    private IBrokerListener? _listener;

    /// <summary>Creates the broker over the stores that keep channel history and user inboxes.</summary>
    public LocalBroker(IHistoryStore history, IInboxStore inbox, TimeProvider? time = null)
    {
        _history = history;
        _inbox = inbox;
        _channelPipes = new StreamPipes(time ?? TimeProvider.System);
        _userPipes = new StreamPipes(time ?? TimeProvider.System);
    }

    /// <inheritdoc />
    public bool IsConnected => true;

    /// <inheritdoc />
    public bool IsLocal => true;

    /// <summary>Ordering state of streams published to recently (for diagnostics and tests of the per-name bounds).</summary>
    internal int PipeCount => _channelPipes.Count + _userPipes.Count;

    /// <inheritdoc />
    public void Start(IBrokerListener listener) => _listener = listener ?? throw new ArgumentNullException(nameof(listener));

    /// <inheritdoc />
    public ValueTask SubscribeAsync(BrokerTopic topic, CancellationToken cancellation = default)
    {
        _ = _listener ?? throw new InvalidOperationException("Start the broker before subscribing");
        _subscribed.TryAdd(topic, 0);
        _broadcastSubscribed |= topic.Kind == BrokerTopicKind.Broadcast;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask UnsubscribeAsync(BrokerTopic topic)
    {
        _subscribed.TryRemove(topic, out _);
        _broadcastSubscribed &= topic.Kind != BrokerTopicKind.Broadcast;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<StreamPosition> PublishAsync(BrokerTopic topic, BrokerMessage message, RetentionLimits? stream, CancellationToken cancellation = default)
    {
        if (stream is { } limits && topic.Kind != BrokerTopicKind.Broadcast)
        {
            return AppendThenDeliverAsync(topic, message, limits, cancellation);
        }
        // Nothing to store: delivered at once, on this thread, without an async step when the node delivers at once.
        var delivering = Deliver(topic, message);
        return delivering.IsCompletedSuccessfully ? default : AwaitDelivery(delivering);

        static async ValueTask<StreamPosition> AwaitDelivery(ValueTask delivering)
        {
            await delivering.ConfigureAwait(false);
            return default;
        }
    }

    /// <summary>Drops the ordering state of streams not published to for <paramref name="idle"/> (the next publish makes it again).</summary>
    public void SweepIdle(TimeSpan idle)
    {
        _channelPipes.Sweep(idle);
        _userPipes.Sweep(idle);
    }

    private ValueTask Deliver(BrokerTopic topic, BrokerMessage message) =>
        _listener is { } listener && (topic.Kind == BrokerTopicKind.Broadcast ? _broadcastSubscribed : _subscribed.ContainsKey(topic))
            ? listener.OnMessageAsync(topic, message)
            : ValueTask.CompletedTask;

    /// <summary>
    /// Stores then delivers one publication of a stream: the append starts in line under the stream's gate (so offsets
    /// follow arrival), may overlap with later appends (group commit), and delivery waits for the previous one, so
    /// offsets reach the node in order. When storage fails the publication is still delivered, without an offset.
    /// </summary>
    private async ValueTask<StreamPosition> AppendThenDeliverAsync(BrokerTopic topic, BrokerMessage message, RetentionLimits limits, CancellationToken cancellation)
    {
        Task<StreamPosition> appending;
        Task previous;
        TaskCompletionSource done;
        var pipes = topic.Kind == BrokerTopicKind.Channel ? _channelPipes : _userPipes;
        var pipe = await pipes.EnterAsync(topic.Name, quiesce: false, cancellation).ConfigureAwait(false);
        try
        {
            appending = StartAppend(topic, message, limits, cancellation);
            (previous, done) = pipe.Enqueue();
        }
        finally
        {
            pipe.Gate.Release();
        }
        try
        {
            StreamPosition position = default;
            StoreUnavailableException? failure = null;
            try
            {
                position = await appending.ConfigureAwait(false);
            }
            catch (StoreUnavailableException ex)
            {
                failure = ex;
            }
            await previous.ConfigureAwait(false);
            await Deliver(topic, failure is null ? message.At(position) : message).ConfigureAwait(false);
            if (failure is not null)
            {
                throw new StoreUnavailableException(failure.Message, failure) { DeliveredLive = true };
            }
            return position;
        }
        finally
        {
            done.SetResult();
        }
    }

    private Task<StreamPosition> StartAppend(BrokerTopic topic, BrokerMessage message, RetentionLimits limits, CancellationToken cancellation)
    {
        try
        {
            return topic.Kind == BrokerTopicKind.Channel
                ? _history.AppendAsync(topic.Name, message.Data, limits, message.Event, cancellation).AsTask()
                : AsPosition(_inbox.AppendAsync(topic.Name, message.Data, limits, message.Event, cancellation));
        }
        catch (Exception ex)
        {
            return Task.FromException<StreamPosition>(ex);
        }

        static async Task<StreamPosition> AsPosition(ValueTask<ulong> offset) => new(await offset.ConfigureAwait(false), "");
    }
}
