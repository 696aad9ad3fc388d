using System.Collections.Concurrent;
using Herald.Core.Engine;
using Herald.Redis.Internal;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using StreamPosition = Herald.Core.Engine.StreamPosition;

namespace Herald.Redis;

/// <summary>
/// The cluster's broker on Redis pub/sub. A publish to a channel with history is one Lua script that assigns the
/// offset, appends, trims and publishes the message with its offset to the channel's topic (<see cref="RedisKeys.ChannelTopic"/>),
/// so every node receives a channel's publications in offset order and never one that was not stored; inbox entries go
/// the same way on the user's topic; everything else is a plain PUBLISH (or SPUBLISH, <see cref="RedisEngineOptions.ShardedPubSub"/>).
/// Each topic the node subscribes to has its own ordered queue (StackExchange.Redis <see cref="ChannelMessageQueue"/>),
/// handled one message at a time. Redis pub/sub is at most once: when the subscription connection is lost and restored
/// the listener is told (<see cref="IBrokerListener.OnSubscriptionsRestored"/>), and the node lets its stream receivers
/// recover from history.
/// </summary>
internal sealed class RedisBroker : IBroker
{
    private readonly RedisRunner _redis;
    private readonly RedisKeys _keys;
    private readonly TimeProvider _time;
    private readonly TimeSpan _positionTtl;
    private readonly bool _sharded;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<BrokerTopic, ChannelMessageQueue> _queues = new();

    /// <summary>How long a subscribe waits for Redis' pub/sub link while Redis itself answers (see <see cref="SubscribeAsync"/>).</summary>
    private static readonly TimeSpan SubscriptionLinkWait = TimeSpan.FromSeconds(5);
    private IBrokerListener? _listener;

    public RedisBroker(RedisRunner redis, RedisKeys keys, TimeProvider time, RedisEngineOptions options, ILogger logger)
    {
        _redis = redis;
        _keys = keys;
        _time = time;
        _positionTtl = options.PositionTtl;
        _sharded = options.ShardedPubSub;
        _logger = logger;
        redis.Connection.ConnectionRestored += OnConnectionRestored;
    }

    public bool IsConnected => _redis.Connection.IsConnected;

    public void Start(IBrokerListener listener) => _listener = listener ?? throw new ArgumentNullException(nameof(listener));

    public async ValueTask<StreamPosition> PublishAsync(BrokerTopic topic, BrokerMessage message, RetentionLimits? stream, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var sharded = _sharded ? 1 : 0;
        if (stream is { } limits && topic.Kind == BrokerTopicKind.Channel)
        {
            var ttl = Retention.Milliseconds(limits.Ttl);
            RedisKey[] keys = [_keys.HistoryMeta(topic.Name), _keys.HistoryEntries(topic.Name), _keys.ChannelTopic(topic.Name)];
            RedisValue[] args = [message.Data, now, Retention.Size(limits), ttl, Epochs.New(), Retention.PositionMilliseconds(ttl, _positionTtl),
                message.Event ?? "", BrokerEnvelope.Kind(message), BrokerEnvelope.Rest(message), sharded];
            var result = (RedisResult[])(await _redis.EvaluateAsync(StreamScripts.HistoryAppendPublish, keys, args, "history append", cancellation).ConfigureAwait(false))!;
            return new StreamPosition((ulong)(long)result[0], (string)result[1]!);
        }
        if (stream is { } inboxLimits && topic.Kind == BrokerTopicKind.User)
        {
            var ttl = Retention.Milliseconds(inboxLimits.Ttl);
            RedisKey[] keys = [_keys.InboxMeta(topic.Name), _keys.InboxEntries(topic.Name), _keys.UserTopic(topic.Name)];
            RedisValue[] args = [message.Data, now, Retention.Size(inboxLimits), ttl, Retention.PositionMilliseconds(ttl, _positionTtl),
                message.Event ?? "", BrokerEnvelope.Kind(message), BrokerEnvelope.Rest(message), sharded];
            var offset = await _redis.EvaluateAsync(StreamScripts.InboxAppendPublish, keys, args, "inbox append", cancellation).ConfigureAwait(false);
            return new StreamPosition((ulong)(long)offset, "");
        }
        var channel = Channel(topic);
        var encoded = BrokerEnvelope.Encode(message);
        await _redis.RunAsync(database => database.PublishAsync(channel, encoded), "publish", cancellation).ConfigureAwait(false);
        return default;
    }

    public async ValueTask SubscribeAsync(BrokerTopic topic, CancellationToken cancellation = default)
    {
        var listener = _listener ?? throw new InvalidOperationException("Start the broker before subscribing");
        if (_queues.ContainsKey(topic))
        {
            return;
        }
        var channel = Channel(topic);
        ChannelMessageQueue? queue = null;
        // Wall-clock time on purpose: this waits for a network link, which a test's manual clock would never bring up.
        var started = TimeProvider.System.GetTimestamp();
        while (true)
        {
            try
            {
                await _redis.RunAsync(async _ => queue = await _redis.Connection.GetSubscriber().SubscribeAsync(channel).ConfigureAwait(false),
                    "subscribe", cancellation).ConfigureAwait(false);
                break;
            }
            catch (StoreUnavailableException) when (_redis.Connection.IsConnected && TimeProvider.System.GetElapsedTime(started) < SubscriptionLinkWait)
            {
                // Redis answers but its pub/sub link is not up yet (it connects beside the command link, and on a busy
                // machine it can lag the engine's start): wait for it, bounded, rather than fail a subscribe at start.
                await Task.Delay(TimeSpan.FromMilliseconds(50), cancellation).ConfigureAwait(false);
            }
        }
        if (!_queues.TryAdd(topic, queue!))
        {
            await queue!.UnsubscribeAsync().ConfigureAwait(false);
            return;
        }
        var sequence = new StreamSequence(); // this subscription's: it lives on across reconnects, as the queue does
        queue!.OnMessage(async received =>
        {
            var message = BrokerEnvelope.Decode((byte[])received.Message!);
            if (message is null)
            {
                RedisEngineLog.ForeignMessage(_logger, channel.ToString());
                return;
            }
            if (sequence.Next(message) is { } gap)
            {
                listener.OnMessagesMissed(topic, gap);
            }
            await listener.OnMessageAsync(topic, message).ConfigureAwait(false);
        });
    }

    public async ValueTask UnsubscribeAsync(BrokerTopic topic)
    {
        if (_queues.TryRemove(topic, out var queue))
        {
            await _redis.RunAsync(_ => queue.UnsubscribeAsync(), "unsubscribe", CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Topics with a queue, for tests.</summary>
    internal int TopicCount => _queues.Count;

    private RedisChannel Channel(BrokerTopic topic)
    {
        var name = topic.Kind switch
        {
            BrokerTopicKind.Channel => _keys.ChannelTopic(topic.Name),
            BrokerTopicKind.User => _keys.UserTopic(topic.Name),
            _ => _keys.BroadcastTopic,
        };
        return _sharded ? RedisChannel.Sharded(name) : RedisChannel.Literal(name);
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Subscription && _listener is { } listener)
        {
            RedisEngineLog.SubscriptionsRestored(_logger);
            listener.OnSubscriptionsRestored();
        }
    }

    public void Detach() => _redis.Connection.ConnectionRestored -= OnConnectionRestored;
}
