using System.Collections.Concurrent;
using Herald.Core.Apps;

namespace Herald.Core.Protocols.Pusher;

/// <summary>
/// What the Pusher adapter keeps about one connection (<see cref="Connections.Connection.ProtocolState"/>): its app,
/// the app's names of its channels, its signed-in user, and its client-event budget.
/// </summary>
internal sealed class PusherConnectionState(AppOptions app)
{
    /// <summary>Most client events a connection may send per second (Pusher's limit).</summary>
    public const int ClientEventsPerSecond = 10;

    private double _eventTokens = ClientEventsPerSecond;
    private long _eventTicks;

    /// <summary>The app the connection's key named.</summary>
    public AppOptions App { get; } = app;

    /// <summary>The app's names of the channels the connection is subscribed to, with the presence user it joined as.</summary>
    public ConcurrentDictionary<string, string> Channels { get; } = new(StringComparer.Ordinal);

    /// <summary>The app's id of the signed-in user (<c>pusher:signin</c>), null before.</summary>
    public string? SignedInUser { get; set; }

    /// <summary>Takes one client event from the budget of <see cref="ClientEventsPerSecond"/>; false when over it.</summary>
    public bool TryTakeClientEvent(long nowTicks)
    {
        // Frames of one connection come one at a time: no lock needed.
        if (_eventTicks != 0)
        {
            _eventTokens = Math.Min(ClientEventsPerSecond, _eventTokens + TimeSpan.FromTicks(nowTicks - _eventTicks).TotalSeconds * ClientEventsPerSecond);
        }
        _eventTicks = nowTicks;
        if (_eventTokens < 1)
        {
            return false;
        }
        _eventTokens -= 1;
        return true;
    }
}
