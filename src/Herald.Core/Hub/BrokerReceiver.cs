using Herald.Core.Channels;
using Herald.Core.Engine;
using Microsoft.Extensions.Logging;

namespace Herald.Core.Hub;

/// <summary>
/// This node's listener on the broker: what the broker hands the node the hub delivers to its connections, in the
/// broker's order (and a publication prepared in process learns how many it reached); control commands other nodes
/// sent are handed to <c>control</c>. When the broker says messages may have been missed (a gap in a stream, a lost
/// link), the connections that recover are asked to reconnect and recover from history.
/// </summary>
internal sealed class BrokerReceiver(
    ConnectionHub hub,
    TopicSubscriptions topics,
    ChannelPolicy policy,
    IHistoryStore history,
    IInboxStore inbox,
    NodeOptions options,
    NodeCounters counters,
    string nodeId,
    Action<byte[]> control,
    ILogger logger) : IBrokerListener
{
    /// <summary>
    /// What the broker hands this node: control commands from other nodes are applied, everything else the hub delivers
    /// to this node's connections (and a publication prepared in process learns how many it reached).
    /// </summary>
    public ValueTask OnMessageAsync(BrokerTopic topic, BrokerMessage message)
    {
        try
        {
            if (message.Kind == BrokerMessageKind.Control)
            {
                if (topic.Kind == BrokerTopicKind.Broadcast && message.Origin != nodeId)
                {
                    control(message.Data);
                }
                return ValueTask.CompletedTask;
            }
            // Most deliveries complete at once (nothing stored waits for a recovery): no async step for them.
            var delivering = hub.DeliverAsync(topic, message);
            if (delivering.IsCompletedSuccessfully)
            {
                Delivered(message, delivering.Result);
                return ValueTask.CompletedTask;
            }
            return AwaitDeliveryAsync(topic, message, delivering);
        }
        catch (Exception ex)
        {
            NodeLog.BrokerMessageFailed(logger, topic.ToString(), ex);
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
            NodeLog.BrokerMessageFailed(logger, topic.ToString(), ex);
        }
    }

    private void Delivered(BrokerMessage message, int count)
    {
        if (count > 0)
        {
            counters.Delivered(count);
            message.Local?.AddDelivered(count);
        }
    }

    /// <summary>
    /// This node may have missed publications of <paramref name="topic"/>: its native connections with a stream there
    /// (history on the channel, or an inbox) are told to reconnect, and recover what they missed from history.
    /// </summary>
    private void MissedMessages(BrokerTopic topic, string reason)
    {
        var stream = topic.Kind == BrokerTopicKind.Channel ? policy.ResolveKnown(topic.Name).History.Enabled : new RetentionLimits(options.InboxSize, options.InboxTtl).Enabled;
        if (stream)
        {
            NodeLog.BrokerMessagesMissed(logger, topic.ToString(), reason, hub.AskToRecover(topic));
        }
    }

    /// <summary>
    /// The broker's link was lost and is back: every stream receiver is told to reconnect and recover. The last offsets
    /// seen are kept, so a publication the broker delivers after a gap (published before this node was listening again)
    /// is caught by the sequence check; and a little later each stream's position is compared with the last offset seen,
    /// for streams that went quiet right after the gap.
    /// </summary>
    public void OnMessagesMissed(BrokerTopic topic, string reason) => MissedMessages(topic, reason);

    /// <inheritdoc />
    public void OnSubscriptionsRestored()
    {
        MissedOnAllStreams("the link to the broker was lost and restored");
        _ = CheckPositionsLaterAsync(TimeSpan.FromSeconds(2));
    }

    private void MissedOnAllStreams(string reason)
    {
        foreach (var topic in topics.Subscribed())
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
        foreach (var topic in topics.Subscribed())
        {
            if (topic.Kind == BrokerTopicKind.Broadcast || !hub.TryGetLastSeen(topic, out var seen))
            {
                continue;
            }
            try
            {
                var pipes = topic.Kind == BrokerTopicKind.Channel ? hub.ChannelGates : hub.UserGates;
                var pipe = await pipes.EnterAsync(topic.Name, quiesce: false).ConfigureAwait(false);
                try
                {
                    var (epoch, offset) = topic.Kind == BrokerTopicKind.Channel
                        ? await ChannelPositionAsync(topic.Name).ConfigureAwait(false)
                        : ("", (await inbox.ReadAsync(topic.Name, seen.Offset, 0).ConfigureAwait(false)).Offset);
                    if (epoch == seen.Epoch && offset > seen.Offset && hub.TryGetLastSeen(topic, out var now) && now == seen)
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
                NodeLog.BrokerFailed(logger, "checking the position of", topic.ToString(), ex.Message);
            }
        }
    }

    private async Task<(string Epoch, ulong Offset)> ChannelPositionAsync(string channel)
    {
        var position = await history.GetPositionAsync(channel).ConfigureAwait(false);
        return (position.Epoch, position.Offset);
    }
}
