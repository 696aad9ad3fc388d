using Herald.Core.Attributes;
using Herald.Core.Channels;
using Herald.Core.Connections;
using Herald.Core.Engine;
using Herald.Core.Hub;
using Herald.Core.Routing;
using Herald.Protocol;

namespace Herald.Core;

/// <summary>
/// The node's side of the broker: every publish goes through the broker (a <see cref="LocalBroker"/> on a single node,
/// Redis in a cluster), which appends it to the channel's history (or the user's inbox) and hands it out in one step,
/// and the node delivers what the broker hands it, in the broker's order. The node listens to the topics of exactly the
/// channels and users it has connections for, plus the broadcast topic (attribute targets, control commands).
/// </summary>
public sealed partial class Node
{
    /// <summary>Whether this node runs in a cluster (its broker reaches other nodes).</summary>
    public bool IsClustered => !_broker.IsLocal;

    /// <summary>Whether the broker is reachable (always true on a single node).</summary>
    public bool BrokerConnected => _broker.IsConnected;

    /// <summary>Broker topics this node listens to now (0 on a single node, whose broker hands over every topic in process).</summary>
    public int BrokerTopicCount => _broker.IsLocal ? 0 : _membership.Topics.Count;

    private sealed class BrokerListener(Node node) : IBrokerListener
    {
        public ValueTask OnMessageAsync(BrokerTopic topic, BrokerMessage message) => node.OnBrokerMessageAsync(topic, message);

        public void OnSubscriptionsRestored() => node.OnSubscriptionsRestored();

        public void OnMessagesMissed(BrokerTopic topic, string reason) => node.OnMessagesMissed(topic, reason);
    }

    /// <summary>
    /// What the broker hands this node: control commands from other nodes are applied, everything else the hub delivers
    /// to this node's connections (and a publication prepared in process learns how many it reached).
    /// </summary>
    private ValueTask OnBrokerMessageAsync(BrokerTopic topic, BrokerMessage message)
    {
        try
        {
            if (message.Kind == BrokerMessageKind.Control)
            {
                if (topic.Kind == BrokerTopicKind.Broadcast && message.Origin != Id)
                {
                    ApplyControl(message.Data);
                }
                return ValueTask.CompletedTask;
            }
            // Most deliveries complete at once (nothing stored waits for a recovery): no async step for them.
            var delivering = _hub.DeliverAsync(topic, message);
            if (delivering.IsCompletedSuccessfully)
            {
                Delivered(message, delivering.Result);
                return ValueTask.CompletedTask;
            }
            return AwaitDeliveryAsync(topic, message, delivering);
        }
        catch (Exception ex)
        {
            NodeLog.BrokerMessageFailed(_logger, topic.ToString(), ex);
            return ValueTask.CompletedTask;
        }
    }

    private async ValueTask AwaitDeliveryAsync(BrokerTopic topic, BrokerMessage message, ValueTask<int> delivering)
    {
        try
        {
            Delivered(message, await delivering.ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            NodeLog.BrokerMessageFailed(_logger, topic.ToString(), ex);
        }
    }

    private void Delivered(BrokerMessage message, int count)
    {
        if (count > 0)
        {
            Counters.Delivered(count);
            message.Local?.AddDelivered(count);
        }
    }

    /// <summary>
    /// This node may have missed publications of <paramref name="topic"/>: its native connections with a stream there
    /// (history on the channel, or an inbox) are told to reconnect, and recover what they missed from history.
    /// </summary>
    private void MissedMessages(BrokerTopic topic, string reason)
    {
        var stream = topic.Kind == BrokerTopicKind.Channel ? _policy.ResolveKnown(topic.Name).History.Enabled : InboxLimits.Enabled;
        if (stream)
        {
            NodeLog.BrokerMessagesMissed(_logger, topic.ToString(), reason, _hub.AskToRecover(topic));
        }
    }

    /// <summary>
    /// The broker's link was lost and is back: every stream receiver is told to reconnect and recover. The last offsets
    /// seen are kept, so a publication the broker delivers after a gap (published before this node was listening again)
    /// is caught by the sequence check; and a little later each stream's position is compared with the last offset seen,
    /// for streams that went quiet right after the gap.
    /// </summary>
    private void OnMessagesMissed(BrokerTopic topic, string reason) => MissedMessages(topic, reason);

    private void OnSubscriptionsRestored()
    {
        MissedOnAllStreams("the link to the broker was lost and restored");
        _ = CheckPositionsLaterAsync(TimeSpan.FromSeconds(2));
    }

    private void MissedOnAllStreams(string reason)
    {
        foreach (var topic in _membership.Topics.Subscribed())
        {
            if (topic.Kind == BrokerTopicKind.Broadcast)
            {
                continue;
            }
            MissedMessages(topic, reason);
        }
    }

    private async Task CheckPositionsLaterAsync(TimeSpan delay)
    {
        await Task.Delay(delay).ConfigureAwait(false);
        foreach (var topic in _membership.Topics.Subscribed())
        {
            if (topic.Kind == BrokerTopicKind.Broadcast || !_hub.TryGetLastSeen(topic, out var seen))
            {
                continue;
            }
            try
            {
                var pipes = topic.Kind == BrokerTopicKind.Channel ? _hub.ChannelGates : _hub.UserGates;
                var pipe = await pipes.EnterAsync(topic.Name, quiesce: false).ConfigureAwait(false);
                try
                {
                    var (epoch, offset) = topic.Kind == BrokerTopicKind.Channel
                        ? await ChannelPositionAsync(topic.Name).ConfigureAwait(false)
                        : ("", (await _inbox.ReadAsync(topic.Name, seen.Offset, 0).ConfigureAwait(false)).Offset);
                    if (epoch == seen.Epoch && offset > seen.Offset && _hub.TryGetLastSeen(topic, out var now) && now == seen)
                    {
                        MissedMessages(topic, $"offset {offset} is stored but the last one received was {seen.Offset}");
                    }
                }
                finally
                {
                    pipe.Gate.Release();
                }
            }
            catch (StoreUnavailableException ex)
            {
                NodeLog.BrokerFailed(_logger, "checking the position of", topic.ToString(), ex.Message);
            }
        }
    }

    private async Task<(string Epoch, ulong Offset)> ChannelPositionAsync(string channel)
    {
        var position = await _history.GetPositionAsync(channel).ConfigureAwait(false);
        return (position.Epoch, position.Offset);
    }

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
            var (counts, totalUsers) = await _membership.Online.CountAsync(list, cancellation).ConfigureAwait(false);
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
