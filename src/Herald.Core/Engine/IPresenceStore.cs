namespace Herald.Core.Engine;

/// <summary>One member of a channel's presence: a connection, its user and the token's info.</summary>
/// <param name="ClientId">The connection id.</param>
/// <param name="UserId">The user id; empty for an anonymous connection.</param>
/// <param name="Info">The token's info claim as raw JSON, or null.</param>
public sealed record PresenceEntry(string ClientId, string UserId, byte[]? Info);

/// <summary>Counts of a channel's presence.</summary>
/// <param name="Connections">Connections present.</param>
/// <param name="Users">Distinct non-empty user ids among them.</param>
public readonly record struct PresenceStats(int Connections, int Users);

/// <summary>A page of a channel's presence, ordered by client id.</summary>
/// <param name="Members">The entries of this page.</param>
/// <param name="NextCursor">Pass it back to get the next page; null when this was the last.</param>
public sealed record PresencePage(IReadOnlyList<PresenceEntry> Members, string? NextCursor);

/// <summary>What a presence change did to the channel's users, for join and leave pushes.</summary>
/// <param name="Changed">Whether the entry was added (or removed); false when it already was (or was not) there.</param>
/// <param name="UserConnections">How many connections the entry's user has in the channel after the change.</param>
public readonly record struct PresenceChange(bool Changed, int UserConnections);

/// <summary>
/// Who is in each channel. Guarantees: an entry added is returned by reads until removed; stats are maintained with
/// every change, so reading them never walks the members; adding an entry twice or removing one that is not there
/// changes nothing (no ghost members, no negative counts). Implementations shared by several nodes must also expire
/// the entries of a node that stopped without removing them.
/// </summary>
public interface IPresenceStore
{
    /// <summary>Adds (or replaces) <paramref name="entry"/> in <paramref name="channel"/>.</summary>
    ValueTask<PresenceChange> AddAsync(string channel, PresenceEntry entry, CancellationToken cancellation = default);

    /// <summary>Removes the entry of <paramref name="clientId"/> from <paramref name="channel"/>.</summary>
    ValueTask<PresenceChange> RemoveAsync(string channel, string clientId, string userId, CancellationToken cancellation = default);

    /// <summary>A page of members after <paramref name="cursor"/>, at most <paramref name="limit"/>.</summary>
    ValueTask<PresencePage> GetAsync(string channel, string? cursor, int limit, CancellationToken cancellation = default);

    /// <summary>The channel's counts.</summary>
    ValueTask<PresenceStats> GetStatsAsync(string channel, CancellationToken cancellation = default);

    /// <summary>How many connections each of <paramref name="users"/> has in the channel (0 when none), in the same order.</summary>
    ValueTask<int[]> GetUserConnectionsAsync(string channel, IReadOnlyList<string> users, CancellationToken cancellation = default);

    /// <summary>
    /// Records that connection <paramref name="clientId"/> of <paramref name="userId"/> is online: who is online across
    /// the nodes sharing the store, kept apart from every channel's presence and expired with its node like it.
    /// </summary>
    ValueTask<PresenceChange> AddOnlineAsync(string clientId, string userId, CancellationToken cancellation = default);

    /// <summary>Records that connection <paramref name="clientId"/> of <paramref name="userId"/> is gone.</summary>
    ValueTask<PresenceChange> RemoveOnlineAsync(string clientId, string userId, CancellationToken cancellation = default);

    /// <summary>How many connections each of <paramref name="users"/> has online (in the same order), and how many users are online in all.</summary>
    ValueTask<(int[] Connections, int TotalUsers)> CountOnlineAsync(IReadOnlyList<string> users, CancellationToken cancellation = default);
}
