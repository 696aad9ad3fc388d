using System.Text;
using Herald.Core.Attributes;
using Herald.Core.Connections;

namespace Herald.Core.Tests.Hub;

public sealed class RoutingTests
{
    [Fact]
    public void Where_publish_reaches_only_connections_matching_every_key()
    {
        using var node = NodeFixture.Create();
        var (_, both) = node.Plain("""{"school_id":"2","school_class_id":"1"}""");
        var (_, otherClass) = node.Plain("""{"school_id":"2","school_class_id":"3"}""");
        var (_, otherSchool) = node.Plain("""{"school_id":"5","school_class_id":"1"}""");
        var (_, none) = node.Plain();

        var result = node.Publish("""{"where":{"school_id":"2","school_class_id":"1"},"data":{"order":42}}""");

        Assert.Equal(1, result.Recipients);
        Assert.Equal(["""{"order":42}"""], both.Texts);
        Assert.Empty(otherClass.Texts);
        Assert.Empty(otherSchool.Texts);
        Assert.Empty(none.Texts);
    }

    [Fact]
    public void Where_array_value_means_any_of()
    {
        using var node = NodeFixture.Create();
        var (_, one) = node.Plain("""{"school_class_id":"1"}""");
        var (_, two) = node.Plain("""{"school_class_id":"2"}""");
        var (_, three) = node.Plain("""{"school_class_id":"3"}""");

        var result = node.Publish("""{"where":{"school_class_id":["1","3"]},"data":"x"}""");

        Assert.Equal(2, result.Recipients);
        Assert.Single(one.Texts);
        Assert.Empty(two.Texts);
        Assert.Single(three.Texts);
    }

    [Fact]
    public void Empty_where_reaches_every_ready_connection_but_not_native_ones_before_connect()
    {
        using var node = NodeFixture.Create();
        var (_, plain) = node.Plain();
        var (_, native) = node.Native();
        var waiting = new RecordingTransport();
        node.Open(waiting, ConnectionKind.Native, "127.0.0.1:3");

        var result = node.Publish("""{"where":{},"data":1}""");

        Assert.Equal(2, result.Recipients);
        Assert.Equal(["1"], plain.Texts);
        Assert.Contains("""{"push":"pub","data":1}""", native.Texts);
        Assert.Empty(waiting.Texts);
    }

    [Fact]
    public void Numbers_and_strings_compare_by_their_text()
    {
        using var node = NodeFixture.Create();
        var (_, numeric) = node.Plain("""{"school_id":2,"vip":true}""");

        node.Publish("""{"where":{"school_id":"2","vip":"true"},"data":1}""");
        node.Publish("""{"where":{"school_id":2},"data":2}""");

        Assert.Equal(["1", "2"], numeric.Texts);
    }

    [Fact]
    public void A_later_attribute_message_replaces_the_earlier_one_in_the_index()
    {
        using var node = NodeFixture.Create();
        var (connection, transport) = node.Plain("""{"school_id":"2","school_class_id":"1"}""");
        node.Send(connection, """{"school_id":"7"}""");

        node.Publish("""{"where":{"school_id":"2"},"data":"old"}""");
        node.Publish("""{"where":{"school_class_id":"1"},"data":"old-class"}""");
        node.Publish("""{"where":{"school_id":"7"},"data":"new"}""");

        Assert.Equal(["new"], transport.Texts);
        Assert.Equal(1, node.AttributeIndex.PairCount);
    }

    [Fact]
    public void String_data_reaches_plain_clients_as_the_string_itself_and_native_clients_as_json()
    {
        using var node = NodeFixture.Create();
        var (_, plain) = node.Plain("""{"k":"v"}""");
        var (_, native) = node.Native("""{"k":"v"}""");

        node.Publish("""{"where":{"k":"v"},"data":"hello \"world\" \u4f60\u597d"}""");

        Assert.Equal(["hello \"world\" 你好"], plain.Texts);
        Assert.Equal("""{"push":"pub","data":"hello \"world\" \u4f60\u597d"}""", native.Texts.Last());
    }

    [Fact]
    public void Channel_publish_reaches_subscribers_with_the_channel_name()
    {
        using var node = NodeFixture.Create();
        var (subscriber, transport) = node.Native();
        var (_, other) = node.Native();
        node.Send(subscriber, """{"id":2,"method":"subscribe","params":{"channel":"orders"}}""");

        var result = node.Publish("""{"channel":"orders","data":{"id":1}}""");

        Assert.Equal(1, result.Recipients);
        Assert.Equal("""{"push":"pub","channel":"orders","offset":1,"data":{"id":1}}""", transport.Texts.Last());
        Assert.DoesNotContain(other.Texts, t => t.Contains("\"pub\"", StringComparison.Ordinal));
    }

    [Fact]
    public void Channel_and_where_together_reach_only_matching_subscribers()
    {
        using var node = NodeFixture.Create();
        var (a, ta) = node.Native("""{"school_id":"2"}""");
        var (b, tb) = node.Native("""{"school_id":"3"}""");
        var (_, tc) = node.Native("""{"school_id":"2"}""");
        node.Send(a, """{"id":2,"method":"subscribe","params":{"channel":"news"}}""");
        node.Send(b, """{"id":2,"method":"subscribe","params":{"channel":"news"}}""");

        var result = node.Publish("""{"channel":"news","where":{"school_id":"2"},"data":1}""");

        Assert.Equal(1, result.Recipients);
        Assert.Contains(ta.Texts, t => t.Contains("\"pub\"", StringComparison.Ordinal));
        Assert.DoesNotContain(tb.Texts, t => t.Contains("\"pub\"", StringComparison.Ordinal));
        Assert.DoesNotContain(tc.Texts, t => t.Contains("\"pub\"", StringComparison.Ordinal));
    }

    [Fact]
    public void Several_channels_give_native_clients_one_push_per_channel()
    {
        using var node = NodeFixture.Create();
        var (a, ta) = node.Native();
        node.Send(a, """{"id":2,"method":"subscribe","params":{"channel":"x"}}""");
        node.Send(a, """{"id":3,"method":"subscribe","params":{"channel":"y"}}""");

        var result = node.Publish("""{"channels":["x","y","z"],"data":5}""");

        Assert.Equal(2, result.Recipients);
        Assert.Contains("""{"push":"pub","channel":"x","offset":1,"data":5}""", ta.Texts);
        Assert.Contains("""{"push":"pub","channel":"y","offset":1,"data":5}""", ta.Texts);
    }

    [Fact]
    public void Unsubscribed_and_closed_connections_receive_nothing_more()
    {
        using var node = NodeFixture.Create();
        var (a, ta) = node.Native();
        var (b, tb) = node.Native();
        node.Send(a, """{"id":2,"method":"subscribe","params":{"channel":"x"}}""");
        node.Send(b, """{"id":2,"method":"subscribe","params":{"channel":"x"}}""");
        node.Send(a, """{"id":3,"method":"unsubscribe","params":{"channel":"x"}}""");
        node.OnClosed(b, 1000, null);

        var result = node.Publish("""{"channel":"x","data":5}""");

        Assert.Equal(0, result.Recipients);
        Assert.Equal(0, node.ChannelCount);
        Assert.Equal(1, node.ConnectionCount);
    }

    [Fact]
    public void Where_lookup_examines_the_smallest_candidate_set_not_every_connection()
    {
        using var node = NodeFixture.Create();
        for (var i = 0; i < 2000; i++)
        {
            node.Plain($$"""{"school_id":"1","school_class_id":"{{i % 10}}"}""");
        }
        var (_, target) = node.Plain("""{"school_id":"2","school_class_id":"1"}""");
        var where = Where("""{"school_id":"2","school_class_id":"1"}""");
        var found = new List<Connection>();

        var examined = node.AttributeIndex.Match(where, found);

        Assert.Equal(1, examined);
        Assert.Single(found);
        Assert.Equal(2001, node.ConnectionCount);
        _ = target;
    }

    private static WhereFilter Where(string json)
    {
        var reader = new System.Text.Json.Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        reader.Read();
        Assert.True(AttributeJson.TryReadWhere(ref reader, out var where, out var error), error);
        return where;
    }
}
