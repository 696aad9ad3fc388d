using System.Text;
using Herald.Core.Routing;

namespace Herald.Core.Tests.Routing;

/// <summary>A publish's event name reaches herald.v1 clients in every push; its excluded connection is skipped on every target.</summary>
public sealed class EventAndExclusionTests
{
    private static PublishRequest Request(string json, string? except = null)
    {
        Assert.True(PublishRequestParser.TryParse(Encoding.UTF8.GetBytes(json), out var request, out _, out var error), error);
        return new PublishRequest(request.Channels, request.Where, request.Data, request.DataIsString, request.Users, request.IdempotencyKey)
        {
            Event = request.Event,
            ExceptConnection = except,
        };
    }

    private static int Pubs(RecordingTransport transport) => transport.Texts.Count(t => t.Contains("\"push\":\"pub\"", StringComparison.Ordinal));

    [Fact]
    public void A_named_event_is_in_the_native_push_of_every_target_kind_and_plain_clients_get_the_data_as_before()
    {
        using var node = NodeFixture.Create();
        var (subscriber, native) = node.Native("""{"k":"v"}""");
        var (_, plain) = node.Plain("""{"k":"v"}""");
        node.Send(subscriber, """{"id":2,"method":"subscribe","params":{"channel":"orders"}}""");

        node.Publish("""{"channel":"orders","event":"order.shipped","data":{"id":1}}""");
        node.Publish("""{"where":{"k":"v"},"event":"App\\Events\\Paid","data":"x"}""");
        node.Publish("""{"channel":"orders","data":2}""");

        Assert.Equal(
            [
                """{"push":"pub","channel":"orders","offset":1,"event":"order.shipped","data":{"id":1}}""",
                """{"push":"pub","event":"App\\Events\\Paid","data":"x"}""",
                """{"push":"pub","channel":"orders","offset":2,"data":2}""",
            ],
            native.Texts.Where(t => t.Contains("\"push\":\"pub\"", StringComparison.Ordinal)));
        Assert.Equal(["x"], plain.Texts);
    }

    [Fact]
    public void The_excluded_connection_gets_nothing_on_a_channel_or_by_attributes_and_is_not_counted()
    {
        using var node = NodeFixture.Create();
        var (sender, senderTransport) = node.Native("""{"k":"v"}""");
        var (other, otherTransport) = node.Native("""{"k":"v"}""");
        var (plainSender, plainSenderTransport) = node.Plain("""{"k":"v"}""");
        var (_, plainOther) = node.Plain("""{"k":"v"}""");
        node.Send(sender, """{"id":2,"method":"subscribe","params":{"channel":"orders"}}""");
        node.Send(other, """{"id":2,"method":"subscribe","params":{"channel":"orders"}}""");

        var onChannel = node.Publish(Request("""{"channel":"orders","event":"e","data":1}""", except: sender.Id));
        var byAttributes = node.Publish(Request("""{"where":{"k":"v"},"data":2}""", except: plainSender.Id));
        var both = node.Publish(Request("""{"channel":"orders","where":{"k":"v"},"data":3}""", except: other.Id));
        var nobodyExcluded = node.Publish(Request("""{"channel":"orders","data":4}""", except: "not-a-connection"));

        Assert.Equal((1, 3, 1, 2), (onChannel.Recipients, byAttributes.Recipients, both.Recipients, nobodyExcluded.Recipients));
        Assert.Equal(3, Pubs(senderTransport)); // 2, 3, 4: not the publish that excluded it
        Assert.Equal(3, Pubs(otherTransport));  // 1, 2, 4
        Assert.Empty(plainSenderTransport.Texts);
        Assert.Equal(["2"], plainOther.Texts);
    }

    [Fact]
    public void Exclusion_holds_for_every_topic_of_a_publish_to_several_channels_and_users()
    {
        using var node = NodeFixture.Create();
        var (sender, senderTransport) = node.Native();
        var (other, otherTransport) = node.Native();
        foreach (var connection in new[] { sender, other })
        {
            node.Send(connection, """{"id":2,"method":"subscribe","params":{"channel":"a"}}""");
            node.Send(connection, """{"id":3,"method":"subscribe","params":{"channel":"b"}}""");
        }

        var result = node.Publish(Request("""{"channels":["a","b"],"event":"e","data":1}""", except: sender.Id));

        Assert.Equal(2, result.Recipients);
        Assert.Equal(0, Pubs(senderTransport));
        Assert.Equal(2, Pubs(otherTransport));
    }
}
