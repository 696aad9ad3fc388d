using Herald.Core.Engine;
using Herald.Protocol;

namespace Herald.Core;

/// <summary>
/// The node's side of the broker as the outside sees it: every publish goes through the broker (a
/// <see cref="LocalBroker"/> on a single node, Redis in a cluster); what the broker hands this node is received by
/// <see cref="Hub.BrokerReceiver"/>, and the node listens to the topics of exactly the channels and users it has
/// connections for (<see cref="Hub.Membership"/>), plus the broadcast topic (attribute targets, control commands).
/// </summary>
public sealed partial class Node
{
    /// <summary>Whether this node runs in a cluster (its broker reaches other nodes).</summary>
    public bool IsClustered => !_broker.IsLocal;

    /// <summary>Whether the broker is reachable (always true on a single node).</summary>
    public bool BrokerConnected => _broker.IsConnected;

    /// <summary>Broker topics this node listens to now (0 on a single node, whose broker hands over every topic in process).</summary>
    public int BrokerTopicCount => _broker.IsLocal ? 0 : _membership.Topics.Count;

    /// <summary>For each user, connections on every node (cluster) or on this node; and the users online in all.</summary>
    public async ValueTask<(IReadOnlyDictionary<string, int> Users, int TotalUsers)> OnlineAsync(IEnumerable<string> users, CancellationToken cancellation = default)
    {
        var list = users.Distinct(StringComparer.Ordinal).ToList();
        if (_broker.IsLocal)
        {
            return (list.ToDictionary(u => u, _hub.Users.CountOf, StringComparer.Ordinal), _hub.Users.UserCount);
        }
        try
        {
            var (counts, totalUsers) = await _membership.CountOnlineAsync(list, cancellation).ConfigureAwait(false);
            var result = new Dictionary<string, int>(list.Count, StringComparer.Ordinal);
            for (var i = 0; i < list.Count; i++)
            {
                result[list[i]] = counts[i];
            }
            return (result, totalUsers);
        }
        catch (StoreUnavailableException ex)
        {
            StoreFailed(ex);
            throw new NodeRequestException(ErrorCodes.StoreUnavailable, "the cluster's engine is unavailable, try again: " + ex.Message);
        }
    }
}
