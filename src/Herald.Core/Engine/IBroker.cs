namespace Herald.Core.Engine;

/// <summary>
/// Fans messages out across the nodes of a cluster. Guarantees: every node subscribed to a topic when a message is
/// published to it receives the message once, unless its subscription was lost meanwhile, which it is told of
/// (<see cref="IBrokerListener.OnSubscriptionsRestored"/>); messages of one topic reach every node in one order, the
/// order in which the broker assigned stream offsets, and a gap in one subscription's offsets is reported
/// (<see cref="IBrokerListener.OnMessagesMissed"/>); a publish appended to a stream is stored (with the durability of
/// the broker's store) before any node receives it. A node receives only the topics it subscribed to. Every failure to
/// reach the broker throws <see cref="StoreUnavailableException"/> at once; nothing is queued for later.
/// The single-node engine is a broker too (<see cref="LocalBroker"/>), so a node runs the same code alone and in a cluster.
/// </summary>
public interface IBroker
{
    /// <summary>Starts handing received messages to <paramref name="listener"/>; call once, before subscribing.</summary>
    void Start(IBrokerListener listener);

    /// <summary>
    /// Publishes <paramref name="message"/> to <paramref name="topic"/>. With <paramref name="stream"/>, also appends the
    /// data to the topic's stream (a channel's history, a user's inbox) in the same atomic step and returns the
    /// position it got, which the delivered message carries; without, returns <c>default</c>.
    /// </summary>
    ValueTask<StreamPosition> PublishAsync(BrokerTopic topic, BrokerMessage message, RetentionLimits? stream, CancellationToken cancellation = default);

    /// <summary>Subscribes this node to <paramref name="topic"/>; completes once messages published afterwards will arrive.</summary>
    ValueTask SubscribeAsync(BrokerTopic topic, CancellationToken cancellation = default);

    /// <summary>Stops receiving <paramref name="topic"/>.</summary>
    ValueTask UnsubscribeAsync(BrokerTopic topic);

    /// <summary>Whether the broker is reachable now.</summary>
    bool IsConnected { get; }

    /// <summary>
    /// Whether this broker serves one node alone and delivers in process (the single-node engine): nothing published
    /// reaches another node, a publish completes once delivered, and the messages it hands over are the very objects
    /// published (so what was prepared for delivery travels with them).
    /// </summary>
    bool IsLocal => false;
}

/// <summary>Receives what the broker delivers to this node.</summary>
public interface IBrokerListener
{
    /// <summary>A message of <paramref name="topic"/>. Called for one topic at a time, in the topic's order; the returned task is awaited before the next.</summary>
    ValueTask OnMessageAsync(BrokerTopic topic, BrokerMessage message);

    /// <summary>The node's subscriptions were lost and are back: messages published in between were not received.</summary>
    void OnSubscriptionsRestored();

    /// <summary>
    /// Messages of a stream topic were not received: within one subscription, a message arrived whose offset is more than
    /// one past the previous one of the same epoch. Called before that message is handed over.
    /// </summary>
    void OnMessagesMissed(BrokerTopic topic, string reason);
}
