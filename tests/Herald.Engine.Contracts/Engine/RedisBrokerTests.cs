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

    [Theory]
    [InlineData("order.shipped", "")]
    [InlineData("a|b %7C %25 % end", "12.34")]
    [InlineData("注文|", "node-a-3")]
    public void The_envelope_carries_the_event_name_and_the_excluded_connection_through_its_separators(string eventName, string exclude)
    {
        var message = new BrokerMessage
        {
            Kind = BrokerMessageKind.Publication, Data = "\"x|y\""u8.ToArray(), DataIsString = true, Origin = "node-a",
            PublishId = "node-a.7", Targets = 2, Event = eventName, Exclude = exclude,
        };

        var decoded = BrokerEnvelope.Decode(BrokerEnvelope.Encode(message))!;

        Assert.Equal((eventName, exclude, "node-a.7", 2, true), (decoded.Event, decoded.Exclude, decoded.PublishId, decoded.Targets, decoded.DataIsString));
        Assert.Equal(message.Data, decoded.Data);
    }

    [Fact]
    public void A_message_of_a_node_of_the_previous_build_reads_as_a_publication_without_an_event()
    {
        // What the build before event names sent: no space in the exclude field.
        var decoded = BrokerEnvelope.Decode("P5|ep1|node-old|node-old.9|2|s|c-3|0|\"hi\""u8)!;

        Assert.Null(decoded.Event);
        Assert.Equal((5UL, "ep1", "node-old", "node-old.9", 2, true, "c-3"),
            (decoded.Offset, decoded.Epoch, decoded.Origin, decoded.PublishId, decoded.Targets, decoded.DataIsString, decoded.Exclude));
        Assert.Equal("\"hi\""u8.ToArray(), decoded.Data);
    }

    [Fact]
    public void A_node_of_the_previous_build_reads_every_field_it_knows_of_a_message_with_an_event()
    {
        var message = new BrokerMessage
        {
            Kind = BrokerMessageKind.Publication, Data = "{\"a\":\"|\"}"u8.ToArray(), Origin = "node-new", PublishId = "node-new.1", Targets = 2,
            Where = """{"k":["v|1"]}"""u8.ToArray(), Event = "x|y z", Exclude = "7.8",
        };

        var old = PreviousBuildDecode(BrokerEnvelope.Encode(message));

        Assert.Equal(("0", "", "node-new", "node-new.1", "2", "-"), (old.Offset, old.Epoch, old.Origin, old.PublishId, old.Targets, old.Flags));
        Assert.Equal(message.Where, old.Where);
        Assert.Equal(message.Data, old.Data);
    }

    /// <summary>
    /// How the build before event names read a message (kept here as the wire contract it fixed): the kind's letter,
    /// eight fields each ended by <c>|</c>, then where-length bytes of filter and the data to the end.
    /// </summary>
    private static (string Offset, string Epoch, string Origin, string PublishId, string Targets, string Flags, byte[] Where, byte[] Data) PreviousBuildDecode(byte[] bytes)
    {
        var rest = bytes.AsSpan(1);
        var fields = new string[8];
        var start = 0;
        for (var i = 0; i < fields.Length; i++)
        {
            var bar = rest[start..].IndexOf((byte)'|');
            Assert.True(bar >= 0, $"field {i} has no end");
            fields[i] = Encoding.UTF8.GetString(rest.Slice(start, bar));
            start += bar + 1;
        }
        var whereLength = int.Parse(fields[7], System.Globalization.CultureInfo.InvariantCulture);
        return (fields[0], fields[1], fields[2], fields[3], fields[4], fields[5], rest.Slice(start, whereLength).ToArray(), rest[(start + whereLength)..].ToArray());
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
