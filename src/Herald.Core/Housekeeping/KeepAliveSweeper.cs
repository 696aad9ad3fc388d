using Herald.Core.Connections;
using Herald.Protocol;
using Microsoft.Extensions.Logging;

namespace Herald.Core.Housekeeping;

/// <summary>
/// One sweep over a node's connections, run by the node's single timer (no timer per connection): pings clients
/// whose protocol has a ping frame, closes stale ones and those that never sent their connect command, closes those whose token expired, and aborts closes
/// that did not finish in time. Clients of a protocol without one get WebSocket ping frames from here when their
/// transport leaves them to the node (<see cref="IKeepAliveTransport"/>), otherwise from the transport's own timer. After a sweep that ran
/// seconds late (the node itself stalled), stale closes wait one pong timeout.
/// </summary>
internal sealed class KeepAliveSweeper(ConnectionRegistry connections, NodeOptions options, ILogger logger)
{
    /// <summary>How often the node sweeps.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    /// <summary>A sweep this much later than its schedule means this process or its machine stalled.</summary>
    private static readonly TimeSpan LateSweep = TimeSpan.FromSeconds(2);

    private long _lastSweepTicks;
    private long _staleGraceUntilTicks;

    /// <summary>Sweeps once at <paramref name="now"/> (<see cref="MonotonicClock.Now"/>); not reentrant (the node's timer serialises it).</summary>
    public void Sweep(long now)
    {
        if (_lastSweepTicks != 0 && now - _lastSweepTicks > (Interval + LateSweep).Ticks)
        {
            // The stall was ours, not the clients': pongs that arrived meanwhile may still wait to be read, so
            // nobody is closed as stale until one pong timeout has passed (pings due meanwhile still go out).
            _staleGraceUntilTicks = now + options.PongTimeout.Ticks;
            NodeLog.KeepAliveSweepLate(logger, Math.Round(TimeSpan.FromTicks(now - _lastSweepTicks - Interval.Ticks).TotalSeconds, 1),
                options.PongTimeout.TotalSeconds);
        }
        _lastSweepTicks = now;
        var checkStale = now >= _staleGraceUntilTicks;
        var ping = options.PingInterval.Ticks;
        var stale = (options.PingInterval + options.PongTimeout).Ticks;
        var connectTimeout = options.ConnectTimeout.Ticks;
        foreach (var connection in connections.All)
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
                    if (now - connection.OpenedAtTicks > connectTimeout && connection.Protocol.ConnectsByCommand)
                    {
                        NodeLog.ConnectTimedOut(logger, connection.Id, connection.RemoteAddress, options.ConnectTimeout.TotalSeconds);
                        connection.Disconnect(DisconnectCodes.ConnectTimeout, "no connect command in time");
                    }
                    break;
                case ConnectionState.Ready when connection.ExpiresAtTicks != 0 && now > connection.ExpiresAtTicks:
                    NodeLog.TokenExpired(logger, connection.Id, connection.UserId);
                    connection.Disconnect(DisconnectCodes.TokenExpired, "token expired: get a new token and reconnect");
                    break;
                // A protocol with a ping frame gets it; the others a WebSocket ping where the transport leaves it to the node.
                case ConnectionState.Ready when connection.Protocol.PingFrame is not null || connection.Transport is IKeepAliveTransport:
                    var silent = now - connection.LastReceivedTicks;
                    if (silent > stale && checkStale)
                    {
                        NodeLog.StaleConnection(logger, connection.Id, connection.RemoteAddress, Math.Round(TimeSpan.FromTicks(silent).TotalSeconds, 1));
                        connection.Disconnect(DisconnectCodes.Stale, "no pong in time");
                    }
                    else if (now - connection.LastPingTicks >= ping)
                    {
                        connection.LastPingTicks = now;
                        if (connection.Protocol.PingFrame is { } pingFrame)
                        {
                            connection.TrySend(pingFrame);
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
}
