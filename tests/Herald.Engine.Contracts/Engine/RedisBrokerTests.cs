using System.Collections.Concurrent;
using System.Text;
using Herald.Core.Engine;
using Herald.Redis;
using Herald.Redis.Internal;
using Herald.Engine.Contracts.Infrastructure;

namespace Herald.Engine.Contracts.Engine;

/// <summary>What is particular to the Redis broker: its envelope and sharded pub/sub (the rest: <see cref="BrokerContract"/>).</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisBrokerTests(RedisEngineFixture redis)
{
    private sealed class Recorder : IBrokerListener
    {
        public ConcurrentQueue<(BrokerTopic Topic, BrokerMessage Message)> Messages { get; } = new();

        public int Restored;

        public ValueTask OnMessageAsync(BrokerTopic topic, BrokerMessage message)
        {
            Messages.Enqueue((topic, message));
            return ValueTask.CompletedTask;
        }

        public void OnSubscriptionsRestored() => Interlocked.Increment(ref Restored);

        public void OnMessagesMissed(BrokerTopic topic, string reason)
        {
        }
    }

    private static BrokerMessage Publication(string data, string? where = null) => new()
    {
        Kind = BrokerMessageKind.Publication,
        Data = Encoding.UTF8.GetBytes(data),
        Origin = "node-a",
        PublishId = "node-a.7",
        Targets = 2,
        DataIsString = data.StartsWith('"'),
        Where = where is null ? null : Encoding.UTF8.GetBytes(where),
        Exclude = "node-a-3",
    };

    [Fact]
    public void The_envelope_round_trips_every_field_and_refuses_foreign_bytes()
    {
        var message = Publication("\"a|b|c\"", """{"k":["v|1"]}""");
        var decoded = BrokerEnvelope.Decode(BrokerEnvelope.Encode(message))!;
        Assert.Equal(message.Kind, decoded.Kind);
        Assert.Equal(0UL, decoded.Offset);
        Assert.Equal("", decoded.Epoch);
        Assert.Equal("node-a", decoded.Origin);
        Assert.Equal("node-a.7", decoded.PublishId);
        Assert.Equal(2, decoded.Targets);
        Assert.True(decoded.DataIsString);
        Assert.Equal("node-a-3", decoded.Exclude);
        Assert.Equal(message.Where, decoded.Where);
        Assert.Equal(message.Data, decoded.Data);

        Assert.Null(BrokerEnvelope.Decode("hello"u8));
        Assert.Null(BrokerEnvelope.Decode("P1|e|o|p|x|-||0|"u8)); // targets not a number
        Assert.Null(BrokerEnvelope.Decode("P1|e|o|p|1|-||99|{}"u8)); // where longer than the message
    }

    [Fact]
    public async Task Sharded_pub_sub_delivers_the_same_way()
    {
        var options = redis.Options();
        options.ShardedPubSub = true;
        await using var engine = await RedisEngine.ConnectAsync(options, new CapturedLogs()).DefaultTimeout();
        var recorder = new Recorder();
        engine.Broker.Start(recorder);
        await engine.Broker.SubscribeAsync(BrokerTopic.Channel("s")).DefaultTimeout();
        await engine.Broker.SubscribeAsync(BrokerTopic.Broadcast).DefaultTimeout();
        await engine.Broker.PublishAsync(BrokerTopic.Channel("s"), Publication("1"), new RetentionLimits(10, TimeSpan.FromHours(1))).DefaultTimeout();
        await engine.Broker.PublishAsync(BrokerTopic.Broadcast, Publication("2"), null).DefaultTimeout();
        await Timeouts.UntilAsync(() => Task.FromResult(recorder.Messages.Count == 2), "messages arrived");
        // Two topics, two queues: no order between them.
        Assert.Equal(1UL, recorder.Messages.Single(m => m.Topic == BrokerTopic.Channel("s")).Message.Offset);
        Assert.Equal(0UL, recorder.Messages.Single(m => m.Topic == BrokerTopic.Broadcast).Message.Offset);
    }
}
