using Herald.Core.Engine;
using Herald.Core.Routing;
using Herald.Protocol;

namespace Herald.Core.Sessions;

/// <summary>What an <see cref="ClientSession.SubscribeAuthorizedAsync"/> found: the channel's last publication and its members, when asked.</summary>
/// <param name="Last">The newest stored publication (null when none, or not asked).</param>
/// <param name="Members">The channel's presence members, the new one included (null when not asked).</param>
internal sealed record AuthorizedSubscription(StoredPublication? Last, IReadOnlyList<PresenceEntry>? Members);

internal readonly partial struct ClientSession
{
    /// <summary>Most presence entries a subscription reads for its member list (Pusher's presence channels hold 100 users).</summary>
    internal const int MaxMembersRead = 1000;

    /// <summary>
    /// Subscribes the connection to the node's <paramref name="channel"/>, a name its adapter checked and authorised
    /// itself (a Pusher app's scoped channel after its signature: no Herald name rules, namespaces or tokens apply).
    /// The reply carries the newest stored publication when <paramref name="readLast"/> (a Pusher cache channel) and
    /// the channel's members when <paramref name="readMembers"/>; live publications follow it without a gap or a repeat.
    /// </summary>
    public async ValueTask SubscribeAuthorizedAsync(string channel, bool readLast, bool readMembers, ICommandReply<AuthorizedSubscription> reply)
    {
        if (connection.ChannelCount >= services.Options.MaxChannelsPerConnection && !connection.HasChannel(channel))
        {
            reply.Failed(new CommandError(ErrorCodes.LimitExceeded,
                $"a connection may subscribe to at most {services.Options.MaxChannelsPerConnection} channels (setting max_channels_per_connection)"));
            return;
        }
        var history = services.Policy.ResolveKnown(channel).History.Enabled;
        // While the stream is quiet nothing of the channel is delivered: the reply (with the last publication) and the
        // live publications after it have no gap and no repeat.
        var pipe = history ? await services.Hub.ChannelGates.EnterAsync(channel, quiesce: true).ConfigureAwait(false) : null;
        try
        {
            services.Membership.Subscribe(connection, channel);
            if (!await TopicJoinedAsync(channel, reply).ConfigureAwait(false))
            {
                return;
            }
            StoredPublication? last = null;
            IReadOnlyList<PresenceEntry>? members = null;
            try
            {
                if (history)
                {
                    StreamPosition position;
                    if (readLast)
                    {
                        var page = await services.History.ReadAsync(channel, 0, 1, newestFirst: true).ConfigureAwait(false);
                        position = page.Position;
                        last = page.Publications.Count > 0 ? page.Publications[0] : null;
                    }
                    else
                    {
                        position = await services.History.GetPositionAsync(channel).ConfigureAwait(false);
                    }
                    // Live publications up to what was read are not sent again.
                    connection.MarkReplayed(channel, position.Epoch, position.Offset);
                }
                await connection.PresenceStoredAsync().ConfigureAwait(false);
                if (readMembers)
                {
                    members = await ReadMembersAsync(channel).ConfigureAwait(false);
                }
            }
            catch (StoreUnavailableException ex)
            {
                services.Membership.Unsubscribe(connection, channel);
                services.Store.Failed(ex);
                reply.Failed(new CommandError(ErrorCodes.StoreUnavailable, "storage is unavailable, subscribe again later: " + ex.Message));
                return;
            }
            reply.Succeeded(new AuthorizedSubscription(last, members));
        }
        finally
        {
            pipe?.Gate.Release();
        }
    }

    private async ValueTask<IReadOnlyList<PresenceEntry>> ReadMembersAsync(string channel)
    {
        var members = new List<PresenceEntry>();
        string? cursor = null;
        do
        {
            var page = await services.Presence.GetAsync(channel, cursor, MaxMembersRead - members.Count).ConfigureAwait(false);
            members.AddRange(page.Members);
            cursor = page.NextCursor;
        }
        while (cursor is not null && members.Count < MaxMembersRead);
        return members;
    }

    /// <summary>Unsubscribes the connection from the node's <paramref name="channel"/> (a name its adapter checked); no publication of it follows the reply.</summary>
    public async ValueTask UnsubscribeAuthorizedAsync(string channel, ICommandReply reply)
    {
        // A delivery already started may hold this connection among its recipients: let those finish first, so no
        // publication of the channel follows the reply (a client that subscribes again with since would see it twice).
        var pipe = await services.Hub.ChannelGates.EnterAsync(channel, quiesce: true).ConfigureAwait(false);
        try
        {
            services.Membership.Unsubscribe(connection, channel);
            reply.Succeeded();
        }
        finally
        {
            pipe.Gate.Release();
        }
    }

    /// <summary>
    /// Makes the connection the node's user <paramref name="user"/> (a scoped name its adapter verified), with
    /// <paramref name="info"/> as what presence tells of it: it then receives the user's publications and is among the
    /// user's connections (terminate, per-user limits). False, with the error, when it is another user already or the
    /// user has too many connections. Being the same user again only replaces the info.
    /// </summary>
    public bool TryBecomeUser(string user, byte[]? info, out CommandError error)
    {
        if (connection.UserId.Length > 0)
        {
            if (!string.Equals(connection.UserId, user, StringComparison.Ordinal))
            {
                error = new CommandError(ErrorCodes.PermissionDenied, "this connection belongs to another user already: one connection is one user");
                return false;
            }
            connection.Info = info ?? connection.Info;
            error = default;
            return true;
        }
        if (!services.Membership.TryAddUserConnection(user, connection))
        {
            error = new CommandError(ErrorCodes.LimitExceeded,
                $"the user already has {services.Options.MaxConnectionsPerUser} connections (setting max_connections_per_user)");
            return false;
        }
        connection.UserId = user;
        connection.Info = info;
        error = default;
        return true;
    }

    /// <summary>Publishes what the connection's adapter authorised itself (a Pusher client event) through the node's one publish path.</summary>
    public ValueTask<PublishResult> PublishAuthorizedAsync(PublishRequest request) => services.Publisher.PublishAsync(request);

    /// <summary>Counts the connection among its Pusher app's on this node; false when the app has max_connections already.</summary>
    public bool TryCountAppConnection(Apps.AppOptions app) => services.TryCountAppConnection(app);

    /// <summary>Gives back the place <see cref="TryCountAppConnection"/> took.</summary>
    public void ReleaseAppConnection(Apps.AppOptions app) => services.ReleaseAppConnection(app);

    /// <summary>Now on the node's monotonic clock, in TimeSpan ticks (an adapter's own rate limits).</summary>
    public long NowTicks => services.Clock.Now;
}
