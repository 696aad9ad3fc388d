using Herald.Core.Attributes;
using Herald.Core.Auth;
using Herald.Core.Channels;
using Herald.Core.Connections;
using Herald.Core.Engine;
using Herald.Core.Hub;
using Herald.Protocol;

namespace Herald.Core.Sessions;

internal readonly partial struct ClientSession
{
    /// <summary>
    /// Connects: checks the request, verifies the token, admits the connection (user, attributes, the token's
    /// channels) and replies with the state of each of those channels and of the user's inbox, recovering what was
    /// missed where <see cref="ConnectRequest.Since"/> asks. A refused token or a full user closes the connection
    /// after the error.
    /// </summary>
    public async ValueTask ConnectAsync(ConnectRequest request, ICommandReply<ConnectResult> reply)
    {
        if (!TryAcceptConnect(request, out var refused))
        {
            reply.Failed(refused);
            return;
        }
        var token = string.IsNullOrEmpty(request.Token) ? null : request.Token;
        var (claims, refusal) = await VerifyConnectionTokenAsync(token, "a token is required: pass it as \"token\" in connect", CancellationToken.None).ConfigureAwait(false);
        if (refusal is { } tokenRefused)
        {
            reply.Failed(TokenRefused(tokenRefused));
            Refuse(tokenRefused);
            return;
        }
        if (request.SinceError is { } sinceError)
        {
            reply.Failed(sinceError);
            return;
        }
        var streams = StreamsReadOnConnect(claims);
        // The token's channels with history, and the user's inbox, are read while their streams are quiet, so the
        // reply and the live publications that follow it have no gap and no repeat.
        using (await QuiesceAsync(streams.Pipes(services.Hub)).ConfigureAwait(false))
        {
            if (!TryAdmit(claims, request.Attributes, out var limitError))
            {
                reply.Failed(new CommandError(ErrorCodes.LimitExceeded, limitError));
                NodeLog.AuthRefused(services.Logger, connection.Id, connection.RemoteAddress, limitError);
                connection.Disconnect(DisconnectCodes.ConnectionLimit, limitError);
                return;
            }
            List<SubscribeResult> subscriptions;
            InboxPage? inbox;
            try
            {
                (subscriptions, inbox) = await ReadStreamsOnConnectAsync(streams, request.Since).ConfigureAwait(false);
            }
            catch (StoreUnavailableException ex)
            {
                services.Store.Failed(ex);
                reply.Failed(new CommandError(ErrorCodes.StoreUnavailable, "history is unavailable, connect again later: " + ex.Message));
                connection.Disconnect(DisconnectCodes.ForceReconnect, "storage unavailable");
                return;
            }
            await connection.PresenceStoredAsync().ConfigureAwait(false);
            reply.Succeeded(new ConnectResult(connection.Id, ServerInfo.Version, services.Options.PingInterval, services.Options.PongTimeout,
                connection.UserId, ExpiresInSeconds(), subscriptions, inbox));
        }
    }

    /// <summary>The checks before the token: connect only once, and attributes that can be read and may be sent.</summary>
    private bool TryAcceptConnect(ConnectRequest request, out CommandError error)
    {
        if (connection.State != ConnectionState.AwaitingConnect)
        {
            error = new CommandError(ErrorCodes.AlreadyConnected, "connect was already sent on this connection");
            return false;
        }
        if (request.AttributesError is { } unreadable)
        {
            error = unreadable;
            return false;
        }
        if (request.Attributes.Count > 0 && !ClientAttributesAllowed(out error))
        {
            return false;
        }
        error = default;
        return true;
    }

    /// <summary>
    /// Verifies the token a connection presents (null: none). Without one the connection is anonymous unless
    /// tokens are required: then it is refused with <paramref name="tokenRequired"/>, which tells the client how
    /// to pass one in its protocol.
    /// </summary>
    private async ValueTask<(TokenClaims? Claims, TokenResult? Refusal)> VerifyConnectionTokenAsync(string? token, string tokenRequired, CancellationToken cancellation)
    {
        if (token is not null)
        {
            var result = await VerifyAsync(token, cancellation).ConfigureAwait(false);
            return result.IsValid ? (result.Claims, null) : (null, result);
        }
        return services.Options.RequireToken ? (null, TokenResult.Refused(TokenFailure.Invalid, tokenRequired)) : (null, null);
    }

    /// <summary>The streams a connect reply carries: the token's channels that keep history, and the user's inbox.</summary>
    private StreamsOnConnect StreamsReadOnConnect(TokenClaims? claims)
    {
        var user = claims?.UserId ?? "";
        var policy = services.Policy;
        var historyChannels = (claims?.Channels ?? [])
            .Select(c => (Channel: c, Ns: ChannelName.IsValid(c, out _) ? policy.Resolve(c, out _) : null))
            .Where(c => c.Ns is { History.Enabled: true })
            .ToList();
        return new StreamsOnConnect(historyChannels, user, user.Length > 0 && services.InboxLimits.Enabled);
    }

    /// <summary>
    /// Reads, for the admitted connection, the state of each of its channels (recovering where asked) and its
    /// inbox. In a cluster it first waits until this node receives their topics, so nothing published after the
    /// read is missed. The caller holds the streams quiet.
    /// </summary>
    private async ValueTask<(List<SubscribeResult> Subscriptions, InboxPage? Inbox)> ReadStreamsOnConnectAsync(
        StreamsOnConnect streams, IReadOnlyDictionary<string, StreamPosition>? since)
    {
        foreach (var channel in connection.Channels)
        {
            await services.Membership.TopicReadyAsync(BrokerTopic.Channel(channel)).ConfigureAwait(false);
        }
        if (streams.Inbox)
        {
            await services.Membership.TopicReadyAsync(BrokerTopic.User(streams.User)).ConfigureAwait(false);
        }
        var subscriptions = new List<SubscribeResult>();
        foreach (var channel in connection.Channels)
        {
            var ns = streams.HistoryChannels.FirstOrDefault(c => c.Channel == channel).Ns;
            var state = ns is null ? null
                : await ReadStreamStateAsync(channel, ns, since is not null && since.TryGetValue(channel, out var from) ? from : null).ConfigureAwait(false);
            if (state is not null)
            {
                MarkReplayed(channel, state);
            }
            subscriptions.Add(new SubscribeResult(channel, state));
        }
        InboxPage? inbox = null;
        if (streams.Inbox)
        {
            inbox = await services.Inbox.ReadAsync(streams.User, null, services.Options.InboxSize).ConfigureAwait(false);
            // Appends go on while the reply is read: live entries up to what it covers are not sent again.
            connection.MarkReplayed("", "", inbox.Offset);
        }
        return (subscriptions, inbox);
    }

    /// <summary>
    /// Replaces the connection's token before it expires: same user, a new expiry, and (with attributes_from=token)
    /// the new token's attributes.
    /// </summary>
    public async ValueTask RefreshAsync(string? token, ICommandReply<RefreshResult> reply)
    {
        if (string.IsNullOrEmpty(token))
        {
            reply.Failed(new CommandError(ErrorCodes.BadRequest, "refresh needs \"token\": the new token"));
            return;
        }
        var result = await VerifyAsync(token, CancellationToken.None).ConfigureAwait(false);
        if (!result.IsValid)
        {
            reply.Failed(TokenRefused(result));
            return;
        }
        if (!string.Equals(result.Claims!.UserId, connection.UserId, StringComparison.Ordinal))
        {
            reply.Failed(new CommandError(ErrorCodes.Unauthorized,
                $"the new token is for user '{result.Claims.UserId}', this connection is user '{connection.UserId}': connect again to change user"));
            return;
        }
        connection.ExpiresAtTicks = ExpiryTicks(result.Claims);
        if (services.Options.AttributesFrom == AttributeSource.Token && result.Claims.Attributes is not null)
        {
            services.Hub.Attributes.Set(connection, result.Claims.Attributes);
        }
        reply.Succeeded(new RefreshResult(ExpiresInSeconds()));
    }

    /// <summary>
    /// Authenticates a connection whose protocol has no connect command (the token comes with the upgrade): a valid
    /// token makes it ready with the token's user, attributes and channels; a refused or missing one (when tokens are
    /// required: <paramref name="tokenRequired"/> says how to pass one) or a full user closes it.
    /// </summary>
    public async ValueTask AuthenticateAsync(string? token, string tokenRequired, CancellationToken cancellation)
    {
        var (claims, refusal) = await VerifyConnectionTokenAsync(token, tokenRequired, cancellation).ConfigureAwait(false);
        if (refusal is { } refused)
        {
            Refuse(refused);
            return;
        }
        if (TryAdmit(claims, AttributeSet.Empty, out var error))
        {
            return;
        }
        NodeLog.AuthRefused(services.Logger, connection.Id, connection.RemoteAddress, error);
        connection.Disconnect(DisconnectCodes.ConnectionLimit, error);
    }

    /// <summary>The streams a connect reads while they are quiet.</summary>
    private readonly record struct StreamsOnConnect(List<(string Channel, NamespaceOptions? Ns)> HistoryChannels, string User, bool Inbox)
    {
        public IEnumerable<(StreamPipes Table, string Key)> Pipes(ConnectionHub hub)
        {
            var pipes = HistoryChannels.Select(c => (hub.ChannelGates, c.Channel));
            return Inbox ? pipes.Append((hub.UserGates, User)) : pipes;
        }
    }
}
