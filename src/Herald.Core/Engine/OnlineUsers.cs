namespace Herald.Core.Engine;

/// <summary>
/// Who is online across a cluster: every connection that has a user, recorded in the engine's shared presence store
/// by the node that holds it (and expired with that node, as presence is), so any node can answer for all of them.
/// A single node answers from its own user index instead and does not use this.
/// </summary>
/// <remarks>
/// The record is a presence set under a reserved name that no channel can have (channel names never contain a space).
/// The name is part of the data nodes share, so nodes of different versions running side by side during an upgrade
/// must agree on it: it does not change.
/// </remarks>
internal sealed class OnlineUsers(IPresenceStore presence)
{
    private const string ReservedSetName = " online";

    /// <summary>Records that <paramref name="clientId"/> of <paramref name="user"/> is connected.</summary>
    public ValueTask<PresenceChange> AddAsync(string clientId, string user) =>
        presence.AddAsync(ReservedSetName, new PresenceEntry(clientId, user, null));

    /// <summary>Records that <paramref name="clientId"/> of <paramref name="user"/> is gone.</summary>
    public ValueTask<PresenceChange> RemoveAsync(string clientId, string user) =>
        presence.RemoveAsync(ReservedSetName, clientId, user);

    /// <summary>For each of <paramref name="users"/> (in order), its connections on every node; and how many users are online in all.</summary>
    public async ValueTask<(int[] Connections, int TotalUsers)> CountAsync(IReadOnlyList<string> users, CancellationToken cancellation)
    {
        var counts = await presence.GetUserConnectionsAsync(ReservedSetName, users, cancellation).ConfigureAwait(false);
        var stats = await presence.GetStatsAsync(ReservedSetName, cancellation).ConfigureAwait(false);
        return (counts, stats.Users);
    }
}
