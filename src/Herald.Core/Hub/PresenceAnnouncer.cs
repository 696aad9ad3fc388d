using Herald.Core.Channels;
using Herald.Core.Connections;
using Herald.Core.Engine;
using Herald.Core.Protocols;
using Herald.Core.Protocols.Pusher;
using Microsoft.Extensions.Logging;

namespace Herald.Core.Hub;

/// <summary>
/// Records a connection's joins and leaves of channels whose namespace keeps presence, and, where the namespace asks
/// (join_leave), tells the channel's other subscribers on every node through the broker (<see cref="PresenceWire"/>).
/// </summary>
internal sealed class PresenceAnnouncer(IBroker broker, ChannelPolicy policy, IPresenceStore presence, string nodeId, ILogger logger)
{
    /// <summary>Records that <paramref name="connection"/> joined <paramref name="channel"/>; a connect's reply waits for the record.</summary>
    public void Joined(Connection connection, string channel)
    {
        var ns = policy.ResolveKnown(channel);
        if (!ns.Presence)
        {
            return;
        }
        var change = presence.AddAsync(channel, new PresenceEntry(connection.Id, connection.UserId, connection.Info));
        if (change.IsCompletedSuccessfully)
        {
            Announce(joined: true, connection, channel, ns, change.Result);
        }
        else
        {
            connection.AddPendingPresence(AwaitAsync(change, joined: true, connection, channel, ns));
        }
    }

    /// <summary>Records that <paramref name="connection"/> left <paramref name="channel"/> (unsubscribed or closed).</summary>
    public void Left(Connection connection, string channel)
    {
        var ns = policy.ResolveKnown(channel);
        if (!ns.Presence)
        {
            return;
        }
        var change = presence.RemoveAsync(channel, connection.Id, connection.UserId);
        if (change.IsCompletedSuccessfully)
        {
            Announce(joined: false, connection, channel, ns, change.Result);
        }
        else
        {
            _ = AwaitAsync(change, joined: false, connection, channel, ns);
        }
    }

    private async Task AwaitAsync(ValueTask<PresenceChange> change, bool joined, Connection connection, string channel, NamespaceOptions ns)
    {
        try
        {
            Announce(joined, connection, channel, ns, await change.ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            NodeLog.PresenceFailed(logger, channel, ex.Message);
        }
    }

    private void Announce(bool joined, Connection connection, string channel, NamespaceOptions ns, PresenceChange change)
    {
        // A Pusher presence channel always tells its members of each other, per user (member_added, member_removed).
        var pusherPresence = PusherChannelNames.IsPresence(channel);
        if (!(ns.JoinLeave || pusherPresence) || !change.Changed)
        {
            return;
        }
        // Per user: the first connection joins, the last one leaves; the devices in between are silent.
        if ((ns.JoinLeavePerUser || pusherPresence) && connection.UserId.Length > 0 && change.UserConnections != (joined ? 1 : 0))
        {
            return;
        }
        // Through the broker: the channel's subscribers on every node get it (on one node, in process).
        var data = PresenceWire.Write(new PresenceChanged(channel, connection.Id, connection.UserId, connection.Info, joined) { PusherOnly = !ns.JoinLeave });
        var message = new BrokerMessage { Kind = BrokerMessageKind.Frame, Data = data, Origin = nodeId, Exclude = connection.Id };
        _ = ObserveAsync(broker.PublishAsync(BrokerTopic.Channel(channel), message, null).AsTask(), channel);
    }

    private async Task ObserveAsync(Task task, string channel)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            NodeLog.BrokerFailed(logger, "presence push to", channel, ex.Message);
        }
    }
}
