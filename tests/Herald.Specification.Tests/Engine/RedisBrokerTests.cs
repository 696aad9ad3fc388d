using System.Collections.Concurrent;
using System.Text;
using Herald.Core.Engine;
using Herald.Redis;
using Herald.Redis.Internal;
using Herald.Specification.Tests.Infrastructure;

namespace Herald.Specification.Tests.Engine;

/// <summary>The Redis broker: the envelope, atomic append and publish, per-topic order, and subscriptions that bound traffic.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisBrokerTests(RedisServerFixture redis)
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
    public async Task History_publishes_carry_the_offsets_and_epoch_they_were_stored_with_in_order_and_only_to_subscribers()
    {
        var prefix = RedisServerFixture.NewPrefix();
        await using var a = await redis.ConnectAsync(new RecordingLogger(), prefix: prefix);
        await using var b = await redis.ConnectAsync(new RecordingLogger(), prefix: prefix);
        var recorder = new Recorder();
        b.Broker.Start(recorder);
        a.Broker.Start(new Recorder());
        await b.Broker.SubscribeAsync(BrokerTopic.Channel("news")).DefaultTimeout();
        var limits = new RetentionLimits(100, TimeSpan.FromHours(1));

        var positions = await Task.WhenAll(Enumerable.Range(1, 50).Select(i =>
            a.Broker.PublishAsync(BrokerTopic.Channel("news"), Publication(i.ToString(System.Globalization.CultureInfo.InvariantCulture)), limits).AsTask()));
        await a.Broker.PublishAsync(BrokerTopic.Channel("sports"), Publication("1"), limits).DefaultTimeout(); // b does not listen
        await Eventually.UntilAsync(() => Task.FromResult(recorder.Messages.Count >= 50), "messages arrived");

        var received = recorder.Messages.ToArray();
        Assert.Equal(Enumerable.Range(1, 50).Select(i => (ulong)i), received.Select(m => m.Message.Offset));
        Assert.All(received, m => Assert.Equal(BrokerTopic.Channel("news"), m.Topic));
        Assert.All(received, m => Assert.Equal(positions[0].Epoch, m.Message.Epoch));
        Assert.Equal(positions.Select(p => p.Offset).Order(), received.Select(m => m.Message.Offset));
        // What was delivered is exactly what history holds.
        var page = await b.History.ReadAsync("news", 0, 100, newestFirst: false).DefaultTimeout();
        Assert.Equal(received.Select(m => Encoding.UTF8.GetString(m.Message.Data)), page.Publications.Select(p => Encoding.UTF8.GetString(p.Data)));

        await b.Broker.UnsubscribeAsync(BrokerTopic.Channel("news")).DefaultTimeout();
        await a.Broker.PublishAsync(BrokerTopic.Channel("news"), Publication("after"), null).DefaultTimeout();
        await a.Broker.PublishAsync(BrokerTopic.Channel("sports"), Publication("2"), null).DefaultTimeout();
        await b.Broker.SubscribeAsync(BrokerTopic.Broadcast).DefaultTimeout();
        await a.Broker.PublishAsync(BrokerTopic.Broadcast, Publication("marker"), null).DefaultTimeout();
        await Eventually.UntilAsync(() => Task.FromResult(recorder.Messages.Count == 51), "messages arrived");
        Assert.Equal("marker", Encoding.UTF8.GetString(recorder.Messages.Last().Message.Data)); // nothing of news or sports came
    }

    [Fact]
    public async Task Inbox_publishes_carry_the_inbox_offset()
    {
        var prefix = RedisServerFixture.NewPrefix();
        await using var engine = await redis.ConnectAsync(new RecordingLogger(), prefix: prefix);
        var recorder = new Recorder();
        engine.Broker.Start(recorder);
        await engine.Broker.SubscribeAsync(BrokerTopic.User("u1")).DefaultTimeout();
        var first = await engine.Broker.PublishAsync(BrokerTopic.User("u1"), Publication("1"), new RetentionLimits(10, TimeSpan.FromHours(1))).DefaultTimeout();
        var second = await engine.Broker.PublishAsync(BrokerTopic.User("u1"), Publication("2"), new RetentionLimits(10, TimeSpan.FromHours(1))).DefaultTimeout();
        Assert.Equal((1UL, 2UL), (first.Offset, second.Offset));
        await Eventually.UntilAsync(() => Task.FromResult(recorder.Messages.Count == 2), "messages arrived");
        Assert.Equal([1UL, 2UL], recorder.Messages.Select(m => m.Message.Offset));
        Assert.Equal(2UL, (await engine.Inbox.ReadAsync("u1", null, 10).DefaultTimeout()).Offset);
    }

    [Fact]
    public async Task Sharded_pub_sub_delivers_the_same_way()
    {
        var options = redis.Options();
        options.ShardedPubSub = true;
        await using var engine = await RedisEngine.ConnectAsync(options, new RecordingLogger()).DefaultTimeout();
        var recorder = new Recorder();
        engine.Broker.Start(recorder);
        await engine.Broker.SubscribeAsync(BrokerTopic.Channel("s")).DefaultTimeout();
        await engine.Broker.SubscribeAsync(BrokerTopic.Broadcast).DefaultTimeout();
        await engine.Broker.PublishAsync(BrokerTopic.Channel("s"), Publication("1"), new RetentionLimits(10, TimeSpan.FromHours(1))).DefaultTimeout();
        await engine.Broker.PublishAsync(BrokerTopic.Broadcast, Publication("2"), null).DefaultTimeout();
        await Eventually.UntilAsync(() => Task.FromResult(recorder.Messages.Count == 2), "messages arrived");
        Assert.Equal([1UL, 0UL], recorder.Messages.Select(m => m.Message.Offset));
    }
}
