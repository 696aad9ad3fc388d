using Herald.Core.Connections;

namespace Herald.Core;

public sealed partial class Node
{
    /// <summary>
    /// Subscribes <paramref name="connection"/> to <paramref name="channel"/> and records its presence there. Subscribing
    /// twice is harmless: the connection stays subscribed once. True when newly subscribed.
    /// </summary>
    private bool AddSubscription(Connection connection, string channel)
    {
        if (!connection.AddChannel(channel))
        {
            return false;
        }
        AddToChannel(channel, connection);
        if (connection.State >= ConnectionState.Closing)
        {
            RemoveFromChannel(channel, connection); // closed meanwhile: do not leave it behind
            return false;
        }
        PresenceJoined(connection, channel);
        if (connection.State == ConnectionState.Closed)
        {
            PresenceLeft(connection, channel); // closed while joining: the leave may have run first (leaving is idempotent)
        }
        return true;
    }

    /// <summary>Unsubscribes <paramref name="connection"/> from <paramref name="channel"/>; true when it was subscribed.</summary>
    private bool RemoveSubscription(Connection connection, string channel)
    {
        if (!connection.RemoveChannel(channel))
        {
            return false;
        }
        RemoveFromChannel(channel, connection);
        connection.ForgetReplayed(channel); // a client churning through names on one connection must not pile up marks
        PresenceLeft(connection, channel);
        return true;
    }
}
