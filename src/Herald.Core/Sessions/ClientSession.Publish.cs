using Herald.Core.Channels;
using Herald.Core.Routing;
using Herald.Protocol;

namespace Herald.Core.Sessions;

internal readonly partial struct ClientSession
{
    /// <summary>
    /// Publishes a client's data to a channel, where the namespace lets clients publish and the connection has the
    /// right to subscribe. The result's recipients are unknown (-1) in a cluster, where every node delivers.
    /// </summary>
    public async ValueTask PublishAsync(ClientPublishRequest request, ICommandReply<PublishResult> reply)
    {
        if (!TryGetNamespacedChannel(request.Channel, out var channel, out var ns, out var error))
        {
            reply.Failed(error);
            return;
        }
        if (!ns.ClientPublish)
        {
            reply.Failed(new CommandError(ErrorCodes.PermissionDenied,
                $"permission denied for channel \"{channel}\": clients may not publish here (setting client_publish, or the namespace's client_publish); publish from your backend over UDP or HTTP"));
            return;
        }
        // Publishing needs at least the right to subscribe: listed users for '#' channels, a subscription for
        // private ones, a user where anonymous connections may not subscribe.
        var userAllowed = ChannelPolicy.UserAllowed(ns, channel, connection.UserId);
        if (userAllowed == false
            || (userAllowed is null && ns.Private && !connection.HasChannel(channel))
            || (!ns.AnonymousSubscribe && connection.UserId.Length == 0))
        {
            reply.Failed(new CommandError(ErrorCodes.PermissionDenied,
                $"permission denied for channel \"{channel}\": publishing needs the right to subscribe (a listed user, a subscription to a private channel, or a user where anonymous connections may not subscribe)"));
            return;
        }
        if (request.Data is not { } data)
        {
            reply.Failed(new CommandError(ErrorCodes.BadRequest, "publish needs \"data\""));
            return;
        }
        var result = await services.Publisher.PublishAsync(new PublishRequest([channel], null, data.ToArray(), request.DataIsString)).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            reply.Failed(new CommandError(result.ErrorCode, result.Error));
            return;
        }
        reply.Succeeded(result);
    }
}
