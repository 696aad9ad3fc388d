namespace Herald.Core;

/// <summary>Monotonic counters of a node, readable at any time.</summary>
public sealed class NodeCounters
{
    private long _connectionsOpened;
    private long _connectionsClosed;
    private long _publishes;
    private long _deliveries;
    private long _slowConsumers;

    /// <summary>Connections opened since start.</summary>
    public long ConnectionsOpened => Interlocked.Read(ref _connectionsOpened);

    /// <summary>Connections closed since start.</summary>
    public long ConnectionsClosed => Interlocked.Read(ref _connectionsClosed);

    /// <summary>Publishes routed since start.</summary>
    public long Publishes => Interlocked.Read(ref _publishes);

    /// <summary>Frames queued for delivery by publishes since start.</summary>
    public long Deliveries => Interlocked.Read(ref _deliveries);

    /// <summary>Connections closed as slow consumers since start.</summary>
    public long SlowConsumers => Interlocked.Read(ref _slowConsumers);

    internal void ConnectionOpened() => Interlocked.Increment(ref _connectionsOpened);

    internal void ConnectionClosed() => Interlocked.Increment(ref _connectionsClosed);

    /// <summary>A publish routed (its deliveries are counted where they are made: <see cref="Delivered"/>).</summary>
    internal void Published() => Interlocked.Increment(ref _publishes);

    /// <summary>Deliveries made for a publish the broker handed this node (from this node or another); not counted as a publish here.</summary>
    internal void Delivered(int deliveries) => Interlocked.Add(ref _deliveries, deliveries);

    internal void SlowConsumerDisconnected() => Interlocked.Increment(ref _slowConsumers);
}
