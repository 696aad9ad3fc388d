namespace Herald.Core.Protocols;

/// <summary>
/// Something the server tells clients that is neither a reply nor a publication, in no protocol's words: each adapter
/// encodes it into its own frame (<see cref="IClientProtocol.EventFrame"/>), once per protocol and event, or ignores it.
/// </summary>
internal abstract record ClientEvent;

/// <summary>
/// A connection joined (<paramref name="Joined"/>) or left a channel whose namespace announces it (join_leave): told
/// to the channel's other subscribers. <paramref name="Info"/> is the token's info (raw JSON), empty without one.
/// </summary>
internal sealed record PresenceChanged(string Channel, string Client, string User, ReadOnlyMemory<byte> Info, bool Joined) : ClientEvent
{
    /// <summary>
    /// Announced only because the channel is a Pusher presence channel (Pusher's member_added and member_removed),
    /// not because its namespace asks (join_leave): protocols whose clients follow join_leave are not told.
    /// </summary>
    public bool PusherOnly { get; init; }
}

/// <summary>The backend subscribed the connection to a channel (<paramref name="Subscribed"/>) or unsubscribed it.</summary>
internal sealed record SubscriptionChangedByServer(string Channel, bool Subscribed) : ClientEvent;
