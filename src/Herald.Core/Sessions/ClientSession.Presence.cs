using Herald.Core.Engine;
using Herald.Protocol;

namespace Herald.Core.Sessions;

internal readonly partial struct ClientSession
{
    /// <summary>A page of the members of a channel the connection is subscribed to (a channel that keeps presence).</summary>
    public async ValueTask PresenceAsync(PresenceQuery query, ICommandReply<PresencePage> reply)
    {
        if (!TryGetPresenceChannel(query.Channel, out var channel, out var error))
        {
            reply.Failed(error);
            return;
        }
        reply.Succeeded(await services.Presence.GetAsync(channel, query.Cursor, Math.Clamp(query.Limit, 1, 1000)).ConfigureAwait(false));
    }

    /// <summary>The member counts of a channel the connection is subscribed to (a channel that keeps presence).</summary>
    public async ValueTask PresenceStatsAsync(string? channelName, ICommandReply<PresenceStats> reply)
    {
        if (!TryGetPresenceChannel(channelName, out var channel, out var error))
        {
            reply.Failed(error);
            return;
        }
        reply.Succeeded(await services.Presence.GetStatsAsync(channel).ConfigureAwait(false));
    }

    /// <summary>A channel whose presence this connection may see: one it is subscribed to, whose namespace keeps presence.</summary>
    private bool TryGetPresenceChannel(string? name, out string channel, out CommandError error)
    {
        if (!TryGetChannel(name, out channel, out error))
        {
            return false;
        }
        if (!connection.HasChannel(channel))
        {
            error = new CommandError(ErrorCodes.PermissionDenied, $"permission denied for channel \"{channel}\": subscribe to it to see its presence");
            return false;
        }
        if (!services.Policy.ResolveKnown(channel).Presence)
        {
            error = new CommandError(ErrorCodes.BadRequest, $"channel \"{channel}\" keeps no presence (namespace option presence)");
            return false;
        }
        return true;
    }
}
