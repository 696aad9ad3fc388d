namespace Herald.Core.Connections;

/// <summary>Where the socket sends of one fan-out run; chosen by whoever publishes, per publish.</summary>
public enum FlushDispatch
{
    /// <summary>On the publishing thread, one recipient after the other (HTTP requests, clients, the broker's receivers).</summary>
    Inline,

    /// <summary>
    /// On the thread pool, in slices of connections (<see cref="FlushBatch"/>): for a thread that must get back to
    /// reading at once and would otherwise carry every send of a broadcast alone (UDP ingress).
    /// </summary>
    ThreadPool,
}
