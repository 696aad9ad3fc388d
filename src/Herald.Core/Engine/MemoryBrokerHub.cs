using System.Threading.Channels;

namespace Herald.Core.Engine;

/// <summary>
/// An in-process broker for several nodes in one process, with history and inboxes in memory: what Redis is to a real
/// cluster, for tests and embedding. Each node gets its own <see cref="IBroker"/> from <see cref="Connect"/>. It keeps
/// every guarantee of <see cref="IBroker"/>: a publish to a stream is appended and fanned out in one step under the
/// topic's lock, so every node receives a topic's messages in offset order, one at a time. (A single Herald node uses
/// <see cref="LocalBroker"/>.)
/// </summary>
public sealed class MemoryBrokerHub
{
    private readonly Lock _sync = new();
    private readonly List<NodeBroker> _nodes = [];
    private readonly Dictionary<BrokerTopic, object> _topicLocks = [];

    /// <summary>Creates a hub whose streams live in <paramref name="history"/> and <paramref name="inbox"/> (new memory stores by default).</summary>
    public MemoryBrokerHub(MemoryHistoryStore? history = null, MemoryInboxStore? inbox = null)
    {
        History = history ?? new MemoryHistoryStore();
        Inbox = inbox ?? new MemoryInboxStore();
    }

    /// <summary>The channel history every node of the hub shares.</summary>
    public MemoryHistoryStore History { get; }

    /// <summary>The inboxes every node of the hub shares.</summary>
    public MemoryInboxStore Inbox { get; }

    /// <summary>A broker for one more node.</summary>
    public IBroker Connect()
    {
        var node = new NodeBroker(this);
        lock (_sync)
        {
            _nodes.Add(node);
        }
        return node;
    }

    /// <summary>
    /// Drops every message for <paramref name="broker"/>'s node until <see cref="Restore"/>, as a lost link to Redis
    /// would (tests of what a node does about missed messages).
    /// </summary>
    public void Cut(IBroker broker) => ((NodeBroker)broker).Connected = false;

    /// <summary>
    /// Ends <see cref="Cut"/>: messages flow again and, with <paramref name="notify"/>, the node is told that it may have
    /// missed some (without, it has to notice by itself).
    /// </summary>
    public void Restore(IBroker broker, bool notify = true)
    {
        var node = (NodeBroker)broker;
        node.Connected = true;
        if (notify)
        {
            node.Listener?.OnSubscriptionsRestored();
        }
    }

    /// <summary>Keeps messages for <paramref name="broker"/>'s node back (in order) until <see cref="Release"/>: a slow link (tests).</summary>
    public void Hold(IBroker broker) => ((NodeBroker)broker).Hold();

    /// <summary>Hands the messages held back since <see cref="Hold"/> to the node, in order.</summary>
    public void Release(IBroker broker) => ((NodeBroker)broker).Release();

    private object TopicLock(BrokerTopic topic)
    {
        lock (_sync)
        {
            if (!_topicLocks.TryGetValue(topic, out var gate))
            {
                _topicLocks[topic] = gate = new object();
            }
            return gate;
        }
    }

    private async ValueTask<StreamPosition> PublishAsync(BrokerTopic topic, BrokerMessage message, RetentionLimits? stream, CancellationToken cancellation)
    {
        // The stores answer synchronously in memory; holding the topic's lock across append and fan-out is what keeps
        // offsets and delivery order one and the same.
        var gate = TopicLock(topic);
        StreamPosition position = default;
        lock (gate)
        {
            if (stream is { } limits && topic.Kind == BrokerTopicKind.Channel)
            {
                position = Completed(History.AppendAsync(topic.Name, message.Data, limits, message.Event, cancellation));
            }
            else if (stream is { } inboxLimits && topic.Kind == BrokerTopicKind.User)
            {
                position = new StreamPosition(Completed(Inbox.AppendAsync(topic.Name, message.Data, inboxLimits, message.Event, cancellation)), "");
            }
            var delivered = position.Offset == 0 ? message : message.At(position);
            NodeBroker[] nodes;
            lock (_sync)
            {
                nodes = [.. _nodes];
            }
            foreach (var node in nodes)
            {
                node.Offer(topic, delivered);
            }
        }
        await Task.Yield(); // like a network round trip: the caller never runs the deliveries inline
        return position;
    }

    private static T Completed<T>(ValueTask<T> task) => task.IsCompleted ? task.Result : task.AsTask().GetAwaiter().GetResult();

    private sealed class NodeBroker(MemoryBrokerHub hub) : IBroker
    {
        private readonly Dictionary<BrokerTopic, Channel<BrokerMessage>> _topics = [];
        private List<(BrokerTopic, BrokerMessage)>? _held;

        public volatile bool Connected = true;

        public IBrokerListener? Listener { get; private set; }

        public bool IsConnected => Connected;

        public void Start(IBrokerListener listener) => Listener = listener;

        public ValueTask<StreamPosition> PublishAsync(BrokerTopic topic, BrokerMessage message, RetentionLimits? stream, CancellationToken cancellation = default) =>
            Connected ? hub.PublishAsync(topic, message, stream, cancellation) : ValueTask.FromException<StreamPosition>(new StoreUnavailableException("the broker is cut off (test)"));

        public ValueTask SubscribeAsync(BrokerTopic topic, CancellationToken cancellation = default)
        {
            if (!Connected)
            {
                return ValueTask.FromException(new StoreUnavailableException("the broker is cut off (test)"));
            }
            var listener = Listener ?? throw new InvalidOperationException("Start the broker before subscribing");
            lock (_topics)
            {
                if (_topics.ContainsKey(topic))
                {
                    return ValueTask.CompletedTask;
                }
                var queue = Channel.CreateUnbounded<BrokerMessage>(new UnboundedChannelOptions { SingleReader = true });
                _topics[topic] = queue;
                _ = Task.Run(async () =>
                {
                    var sequence = new StreamSequence();
                    await foreach (var message in queue.Reader.ReadAllAsync().ConfigureAwait(false))
                    {
                        if (sequence.Next(message) is { } gap)
                        {
                            listener.OnMessagesMissed(topic, gap);
                        }
                        await listener.OnMessageAsync(topic, message).ConfigureAwait(false);
                    }
                });
            }
            return ValueTask.CompletedTask;
        }

        public ValueTask UnsubscribeAsync(BrokerTopic topic)
        {
            lock (_topics)
            {
                if (_topics.Remove(topic, out var queue))
                {
                    queue.Writer.TryComplete();
                }
            }
            return ValueTask.CompletedTask;
        }

        public void Offer(BrokerTopic topic, BrokerMessage message)
        {
            if (!Connected)
            {
                return;
            }
            lock (_topics)
            {
                if (_held is not null)
                {
                    _held.Add((topic, message));
                }
                else if (_topics.TryGetValue(topic, out var queue))
                {
                    queue.Writer.TryWrite(message);
                }
            }
        }

        public void Hold()
        {
            lock (_topics)
            {
                _held ??= [];
            }
        }

        public void Release()
        {
            lock (_topics)
            {
                var held = _held ?? [];
                _held = null;
                foreach (var (topic, message) in held)
                {
                    if (_topics.TryGetValue(topic, out var queue))
                    {
                        queue.Writer.TryWrite(message);
                    }
                }
            }
        }
    }
}
