using Herald.Core.Connections;
using Herald.Core.Engine;
using Herald.Protocol;

namespace Herald.Core;

public sealed partial class Node
{
    private static readonly TimeSpan KeepAliveTickInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>A sweep this much later than its 500 ms schedule means this process or its machine stalled.</summary>
    private static readonly TimeSpan LateSweep = TimeSpan.FromSeconds(2);

    private readonly ITimer _keepAliveTimer;
    private int _tickRunning;
    private long _housekeepingTicks;
    private long _lastSweepTicks;
    private long _staleGraceUntilTicks;

    /// <summary>Pipes unused this long are dropped (their next publish makes a new one).</summary>
    private static readonly TimeSpan PipeIdle = TimeSpan.FromMinutes(2);

    internal int PipeCount => _channelPipes.Count + _userPipes.Count + ((_broker as LocalBroker)?.PipeCount ?? 0);

    internal void SweepPipes(TimeSpan idle)
    {
        _channelPipes.Sweep(idle);
        _userPipes.Sweep(idle);
        (_broker as LocalBroker)?.SweepIdle(idle);
    }

    /// <summary>
    /// Forgets what the history store keeps for channels with nothing stored, unused for <paramref name="idle"/> and
    /// without subscribers here (a single-node store only: a cluster's history lives in Redis, with its own expiry).
    /// </summary>
    internal int ForgetIdleChannels(TimeSpan idle) =>
        _history is IForgetsIdleStreams store ? store.ForgetIdle(idle, channel => _channels.SubscriberCount(channel) > 0) : 0;

    /// <summary>How many entries each per-name table of this node holds now: what clients can make grow, for tests and diagnostics.</summary>
    internal TrackedState Tracked => new(
        Channels: _channels.Count,
        Users: _users.UserCount,
        StreamPipes: PipeCount,
        IdleChannelState: (_history as IForgetsIdleStreams)?.IdleStateCount ?? 0,
        IdempotencyKeys: _idempotency.Count,
        AttributePairs: _index.PairCount,
        Connections: _connections.Count);

    /// <summary>The sizes of the node's per-name tables (<see cref="Tracked"/>).</summary>
    internal readonly record struct TrackedState(int Channels, int Users, int StreamPipes, int IdleChannelState, int IdempotencyKeys,
        int AttributePairs, int Connections);

    /// <summary>The periodic forgetting of per-name state whose bound passed (tests call it with a zero pipe idle time).</summary>
    internal void Housekeep(TimeSpan pipeIdle)
    {
        _idempotency.Sweep();
        SweepPipes(pipeIdle);
        SweepRecentPublishes();
        ForgetIdleChannels(Options.IdleChannelTimeout);
    }

    /// <summary>
    /// One sweep over the connections (a single timer for the whole node: no timer per connection): pings native
    /// clients, closes stale ones and those that never sent connect, and aborts closes that did not finish in time.
    /// After a sweep that ran seconds late (the node itself stalled), stale closes wait one pong timeout.
    /// Plain clients get WebSocket ping frames: from here when their transport leaves them to the node
    /// (<see cref="IKeepAliveTransport"/>), otherwise from the transport's own timer.
    /// </summary>
    internal void KeepAliveTick()
    {
        if (Interlocked.Exchange(ref _tickRunning, 1) == 1)
        {
            return;
        }
        try
        {
            // Housekeeping every 20 ticks (10 s): forget old idempotency keys, idle stream pipes and the epochs and
            // expired streams of idle channels nobody here subscribes to.
            if (++_housekeepingTicks % 20 == 0)
            {
                Housekeep(PipeIdle);
            }
            if (_broker.IsConnected)
            {
                _topics.Reconcile(Engine.BrokerTopic.Broadcast); // joins the cluster's broadcast once the broker answers, if it did not at start
            }
            var now = NowTicks;
            if (_lastSweepTicks != 0 && now - _lastSweepTicks > (KeepAliveTickInterval + LateSweep).Ticks)
            {
                // The stall was ours, not the clients': pongs that arrived meanwhile may still wait to be read, so
                // nobody is closed as stale until one pong timeout has passed (pings due meanwhile still go out).
                _staleGraceUntilTicks = now + Options.PongTimeout.Ticks;
                NodeLog.KeepAliveSweepLate(_logger, Math.Round((double)(now - _lastSweepTicks - KeepAliveTickInterval.Ticks) / TimeSpan.TicksPerSecond, 1),
                    Options.PongTimeout.TotalSeconds);
            }
            _lastSweepTicks = now;
            var checkStale = now >= _staleGraceUntilTicks;
            var ping = Options.PingInterval.Ticks;
            var stale = (Options.PingInterval + Options.PongTimeout).Ticks;
            var connectTimeout = Options.ConnectTimeout.Ticks;
            foreach (var connection in _connections.All)
            {
                switch (connection.State)
                {
                    case ConnectionState.Closing:
                        if (now > connection.CloseDeadlineTicks)
                        {
                            connection.Abort();
                        }
                        break;
                    case ConnectionState.AwaitingConnect:
                        if (now - connection.OpenedAtTicks > connectTimeout && connection.Kind == ConnectionKind.Native)
                        {
                            NodeLog.ConnectTimedOut(_logger, connection.Id, connection.RemoteAddress, Options.ConnectTimeout.TotalSeconds);
                            connection.Disconnect(DisconnectCodes.ConnectTimeout, "no connect command in time");
                        }
                        break;
                    case ConnectionState.Ready when connection.ExpiresAtTicks != 0 && now > connection.ExpiresAtTicks:
                        NodeLog.TokenExpired(_logger, connection.Id, connection.UserId);
                        connection.Disconnect(DisconnectCodes.TokenExpired, "token expired: get a new token and reconnect");
                        break;
                    // Native clients get the protocol's ping push; plain ones a WebSocket ping where the transport leaves it to the node.
                    case ConnectionState.Ready when connection.Kind == ConnectionKind.Native || connection.Transport is IKeepAliveTransport:
                        var silent = now - connection.LastReceivedTicks;
                        if (silent > stale && checkStale)
                        {
                            NodeLog.StaleConnection(_logger, connection.Id, connection.RemoteAddress, Math.Round((double)silent / TimeSpan.TicksPerSecond, 1));
                            connection.Disconnect(DisconnectCodes.Stale, "no pong in time");
                        }
                        else if (now - connection.LastPingTicks >= ping)
                        {
                            connection.LastPingTicks = now;
                            if (connection.Kind == ConnectionKind.Native)
                            {
                                connection.TrySend(ServerFrames.PingPush);
                            }
                            else
                            {
                                ((IKeepAliveTransport)connection.Transport).SendPing();
                            }
                        }
                        break;
                }
            }
        }
        finally
        {
            Volatile.Write(ref _tickRunning, 0);
        }
    }
}
