using Herald.Core.Channels;
using Herald.Core.Engine;
using Herald.Protocol;

namespace Herald.Core.Sessions;

internal readonly partial struct ClientSession
{
    /// <summary>
    /// Subscribes the connection to a channel it may see. For a channel with history the reply says where the
    /// stream is and, when <see cref="SubscribeRequest.Since"/> asks, whether everything missed since then was
    /// recovered (and what it was); live publications follow the reply without a gap or a repeat.
    /// </summary>
    public async ValueTask SubscribeAsync(SubscribeRequest request, ICommandReply<SubscribeResult> reply)
    {
        if (!TryGetNamespacedChannel(request.Channel, out var channel, out var ns, out var invalid))
        {
            reply.Failed(invalid);
            return;
        }
        if (await SubscribeRefusalAsync(channel, ns, request.Token).ConfigureAwait(false) is { } refused)
        {
            reply.Failed(refused);
            return;
        }
        if (request.SinceError is { } sinceError)
        {
            reply.Failed(sinceError);
            return;
        }
        if (!ns.History.Enabled)
        {
            services.Membership.Subscribe(connection, channel);
            if (await TopicJoinedAsync(channel, reply).ConfigureAwait(false))
            {
                await connection.PresenceStoredAsync().ConfigureAwait(false);
                reply.Succeeded(new SubscribeResult(channel, null));
            }
            return;
        }
        // While the channel's stream is quiet no publish is stored or delivered: the reply (with what was missed)
        // and then the live publications follow each other without a gap or a repeat.
        var pipe = await services.Hub.ChannelGates.EnterAsync(channel, quiesce: true).ConfigureAwait(false);
        try
        {
            services.Membership.Subscribe(connection, channel);
            if (!await TopicJoinedAsync(channel, reply).ConfigureAwait(false))
            {
                return;
            }
            StreamState state;
            try
            {
                state = await ReadStreamStateAsync(channel, ns, request.Since).ConfigureAwait(false);
                MarkReplayed(channel, state);
            }
            catch (StoreUnavailableException ex)
            {
                services.Membership.Unsubscribe(connection, channel);
                services.Store.Failed(ex);
                reply.Failed(new CommandError(ErrorCodes.StoreUnavailable, "history is unavailable, try again: " + ex.Message));
                return;
            }
            await connection.PresenceStoredAsync().ConfigureAwait(false);
            reply.Succeeded(new SubscribeResult(channel, state));
        }
        finally
        {
            pipe.Gate.Release();
        }
    }

    /// <summary>
    /// Why the connection may not subscribe to <paramref name="channel"/>, or null when it may: '#' channels admit
    /// the users they list, private ones need a subscription token for this channel and user, anonymous connections
    /// need anonymous_subscribe, and the connection must be within max_channels_per_connection.
    /// </summary>
    private async ValueTask<CommandError?> SubscribeRefusalAsync(string channel, NamespaceOptions ns, string? token)
    {
        var userAllowed = ChannelPolicy.UserAllowed(ns, channel, connection.UserId);
        if (userAllowed == false)
        {
            return new CommandError(ErrorCodes.PermissionDenied,
                $"permission denied for channel \"{channel}\": it is limited to the users after '#'");
        }
        if (userAllowed is null && !ns.AnonymousSubscribe && connection.UserId.Length == 0)
        {
            return new CommandError(ErrorCodes.PermissionDenied,
                $"permission denied for channel \"{channel}\": anonymous connections may not subscribe (namespace option anonymous_subscribe)");
        }
        if (userAllowed is null && ns.Private && await SubscriptionTokenRefusalAsync(channel, token).ConfigureAwait(false) is { } refused)
        {
            return refused;
        }
        if (connection.ChannelCount >= services.Options.MaxChannelsPerConnection && !connection.HasChannel(channel))
        {
            return new CommandError(ErrorCodes.LimitExceeded,
                $"a connection may subscribe to at most {services.Options.MaxChannelsPerConnection} channels (setting max_channels_per_connection)");
        }
        return null;
    }

    /// <summary>Why a private channel's subscription token does not admit this connection, or null when it does.</summary>
    private async ValueTask<CommandError?> SubscriptionTokenRefusalAsync(string channel, string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return new CommandError(ErrorCodes.PermissionDenied,
                $"permission denied for channel \"{channel}\": it is private, pass a subscription token as \"token\"");
        }
        var result = await VerifyAsync(token, CancellationToken.None).ConfigureAwait(false);
        if (!result.IsValid)
        {
            return TokenRefused(result, "subscription token: ");
        }
        if (!string.Equals(result.Claims!.Channel, channel, StringComparison.Ordinal)
            || !string.Equals(result.Claims.UserId, connection.UserId, StringComparison.Ordinal))
        {
            return new CommandError(ErrorCodes.PermissionDenied,
                $"permission denied for channel \"{channel}\": the subscription token is for channel \"{result.Claims.Channel}\" and user '{result.Claims.UserId}'");
        }
        return null;
    }

    /// <summary>
    /// In a cluster, waits until this node receives the channel's topic, so nothing published after the reply is
    /// missed. False (the subscription undone, the error replied) when the broker is unreachable.
    /// </summary>
    private async ValueTask<bool> TopicJoinedAsync(string channel, ICommandReply reply)
    {
        try
        {
            await services.Membership.TopicReadyAsync(BrokerTopic.Channel(channel)).ConfigureAwait(false);
            return true;
        }
        catch (StoreUnavailableException ex)
        {
            services.Membership.Unsubscribe(connection, channel);
            services.Store.Failed(ex);
            reply.Failed(new CommandError(ErrorCodes.StoreUnavailable, "the cluster's engine is unavailable, subscribe again later: " + ex.Message));
            return false;
        }
    }

    /// <summary>
    /// Live publications up to what a subscription's reply covered are not sent again: the broker goes on appending
    /// while the reply is read (the stream's gate holds back only their delivery).
    /// </summary>
    private void MarkReplayed(string channel, StreamState state) =>
        connection.MarkReplayed(channel, state.Position.Epoch, state.Position.Offset);

    /// <summary>
    /// Unsubscribes the connection from a channel (harmless when it was not subscribed). No publication of the
    /// channel follows the reply.
    /// </summary>
    public async ValueTask UnsubscribeAsync(string? channelName, ICommandReply reply)
    {
        if (!TryGetChannel(channelName, out var channel, out var error))
        {
            reply.Failed(error);
            return;
        }
        await UnsubscribeAuthorizedAsync(channel, reply).ConfigureAwait(false);
    }
}
