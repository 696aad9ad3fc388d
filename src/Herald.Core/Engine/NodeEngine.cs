namespace Herald.Core.Engine;

/// <summary>
/// What a node stores in and publishes through. Every part left out is kept in this process: history, inboxes and
/// presence in memory, and a <see cref="LocalBroker"/> over that history and those inboxes (a single node). A cluster
/// gives all of them from one shared engine (Redis), with a broker that reaches the other nodes.
/// </summary>
public sealed class NodeEngine
{
    /// <summary>Channel history (default: in memory).</summary>
    public IHistoryStore? History { get; init; }

    /// <summary>User inboxes (default: in memory).</summary>
    public IInboxStore? Inbox { get; init; }

    /// <summary>Channel presence, and in a cluster who is online (default: in memory).</summary>
    public IPresenceStore? Presence { get; init; }

    /// <summary>The broker every publish goes through (default: a <see cref="LocalBroker"/> over <see cref="History"/> and <see cref="Inbox"/>).</summary>
    public IBroker? Broker { get; init; }

    /// <summary>Idempotency keys shared with the other nodes (default: remembered by this node only).</summary>
    public IIdempotencyStore? Idempotency { get; init; }

    /// <summary>The node's id, the prefix of its connection ids: unique in the cluster (default: random).</summary>
    public string? NodeId { get; init; }
}
