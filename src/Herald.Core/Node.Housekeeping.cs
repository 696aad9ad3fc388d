using Herald.Core.Engine;
using Herald.Core.Housekeeping;

namespace Herald.Core;

public sealed partial class Node
{
    private readonly ITimer _timer;
    private readonly KeepAliveSweeper _keepAlive;
    private int _tickRunning;
    private long _ticks;

    /// <summary>Pipes unused this long are dropped (their next publish makes a new one).</summary>
    private static readonly TimeSpan PipeIdle = TimeSpan.FromMinutes(2);

    internal int PipeCount => _hub.GateCount + ((_broker as LocalBroker)?.PipeCount ?? 0);

    internal void SweepPipes(TimeSpan idle)
    {
        _hub.ChannelGates.Sweep(idle);
        _hub.UserGates.Sweep(idle);
        (_broker as LocalBroker)?.SweepIdle(idle);
    }

    /// <summary>
    /// Forgets what the history store keeps for channels with nothing stored, unused for <paramref name="idle"/> and
    /// without subscribers here (a single-node store only: a cluster's history lives in Redis, with its own expiry).
    /// </summary>
    internal int ForgetIdleChannels(TimeSpan idle) =>
        _history is IForgetsIdleStreams store ? store.ForgetIdle(idle, channel => _hub.Channels.SubscriberCount(channel) > 0) : 0;

    /// <summary>How many entries each per-name table of this node holds now: what clients can make grow, for tests and diagnostics.</summary>
    internal TrackedState Tracked => new(
        Channels: _hub.Channels.Count,
        Users: _hub.Users.UserCount,
        StreamPipes: PipeCount,
        IdleChannelState: (_history as IForgetsIdleStreams)?.IdleStateCount ?? 0,
        IdempotencyKeys: _idempotency.Count,
        AttributePairs: _hub.Attributes.PairCount,
        Connections: _hub.Connections.Count);

    /// <summary>The sizes of the node's per-name tables (<see cref="Tracked"/>).</summary>
    internal readonly record struct TrackedState(int Channels, int Users, int StreamPipes, int IdleChannelState, int IdempotencyKeys,
        int AttributePairs, int Connections);

    /// <summary>
    /// Forgets per-name state whose bound passed: old idempotency keys, idle stream pipes, the plain-client marks of
    /// publishes to several topics, and the epochs and expired streams of idle channels nobody here subscribes to
    /// (tests call it with a zero pipe idle time).
    /// </summary>
    internal void Housekeep(TimeSpan pipeIdle)
    {
        _idempotency.Sweep();
        SweepPipes(pipeIdle);
        _hub.SweepRecentPublishes();
        ForgetIdleChannels(Options.IdleChannelTimeout);
    }

    /// <summary>
    /// The node's one timer, every <see cref="KeepAliveSweeper.Interval"/>: the keep-alive sweep over the connections,
    /// every 20th time (10 s) the housekeeping, and joining the cluster's broadcast topic once the broker answers (if it
    /// did not at start). A tick still running when the next is due makes that one skip.
    /// </summary>
    internal void Tick()
    {
        if (Interlocked.Exchange(ref _tickRunning, 1) == 1)
        {
            return;
        }
        try
        {
            if (++_ticks % 20 == 0)
            {
                Housekeep(PipeIdle);
            }
            if (_broker.IsConnected)
            {
                _membership.Topics.Reconcile(BrokerTopic.Broadcast);
            }
            _keepAlive.Sweep(NowTicks);
        }
        finally
        {
            Volatile.Write(ref _tickRunning, 0);
        }
    }
}
