using Herald.Core.Attributes;
using Herald.Core.Channels;
using Herald.Core.Connections;
using Herald.Core.Hub;
using Herald.Core.Protocols;
using Herald.Protocol;

namespace Herald.Core.Control;

/// <summary>
/// Applies a backend's control command to this node's connections of its target: the server-initiated disconnect,
/// subscribe, unsubscribe and attribute change. Clients are told of a subscription the server changed in their own
/// protocol's words (<see cref="SubscriptionChangedByServer"/>); the node's façade sends the command on to the
/// other nodes of a cluster.
/// </summary>
internal sealed class ControlApplier(ConnectionHub hub, Membership membership, ChannelPolicy policy, NodeOptions options)
{
    /// <summary>The connections of <paramref name="target"/> on this node.</summary>
    public IReadOnlyList<Connection> Find(ControlTarget target)
    {
        if (target.Kind == ControlTargetKind.Client)
        {
            return hub.Connections.TryGet(target.Id, out var connection) ? [connection] : [];
        }
        var list = new List<Connection>();
        hub.Users.CopyConnections(target.Id, list);
        return list;
    }

    /// <summary>Applies <paramref name="command"/> to <paramref name="targets"/>; returns how many it affected.</summary>
    /// <exception cref="NodeRequestException">A subscribe to a channel in no namespace.</exception>
    public int Apply(ControlCommand command, IReadOnlyList<Connection> targets)
    {
        switch (command)
        {
            case DisconnectCommand disconnect:
                foreach (var connection in targets)
                {
                    connection.Disconnect(disconnect.Code, disconnect.Reason);
                }
                return targets.Count;
            case SubscribeCommand subscribe:
                return Subscribe(targets, subscribe.Channel);
            case UnsubscribeCommand unsubscribe:
                return Unsubscribe(targets, unsubscribe.Channel);
            case SetAttributesCommand attributes:
                return SetAttributes(targets, attributes.Attributes);
            default:
                throw new ArgumentException($"{command.GetType().Name} is not a control command this node can apply", nameof(command));
        }
    }

    /// <summary>Subscribes live connections to a channel; they are told (<see cref="SubscriptionChangedByServer"/>).</summary>
    private int Subscribe(IReadOnlyList<Connection> connections, string channel)
    {
        if (policy.Resolve(channel, out var error) is null)
        {
            throw new NodeRequestException(ErrorCodes.UnknownNamespace, error);
        }
        var frames = new EventFrames(new SubscriptionChangedByServer(channel, Subscribed: true));
        var count = 0;
        foreach (var connection in connections)
        {
            if (connection.State == ConnectionState.Ready && connection.ChannelCount < options.MaxChannelsPerConnection && membership.Subscribe(connection, channel))
            {
                // Told at once, before any publication of the channel reaches it.
                if (frames.For(connection.Protocol) is { } frame)
                {
                    connection.TrySend(frame);
                }
                count++;
            }
        }
        return count;
    }

    /// <summary>Unsubscribes live connections from a channel; they are told (<see cref="SubscriptionChangedByServer"/>).</summary>
    private int Unsubscribe(IReadOnlyList<Connection> connections, string channel)
    {
        var frames = new EventFrames(new SubscriptionChangedByServer(channel, Subscribed: false));
        var count = 0;
        foreach (var connection in connections)
        {
            if (membership.Unsubscribe(connection, channel))
            {
                if (frames.For(connection.Protocol) is { } frame)
                {
                    connection.TrySend(frame);
                }
                count++;
            }
        }
        return count;
    }

    /// <summary>Sets attributes from the backend: trusted, they replace what the client said and what the token said.</summary>
    private int SetAttributes(IReadOnlyList<Connection> connections, AttributeSet attributes)
    {
        foreach (var connection in connections)
        {
            connection.TokenAttributes = attributes;
            hub.Attributes.Set(connection, attributes);
        }
        return connections.Count;
    }
}
