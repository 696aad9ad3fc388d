using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests;

/// <summary>The seed's flow: plain clients announce attributes; backends publish with a where filter.</summary>
public sealed class PlainClientTests
{
    private const string Marker = """{"where":{},"data":"marker"}""";

    [Fact]
    public async Task Udp_where_publish_reaches_exactly_the_matching_connections()
    {
        await using var server = await TestServer.StartAsync();
        var match = await server.ConnectPlainAsync("""{"school_class_id":"1","school_id":"2"}""");
        var otherSchool = await server.ConnectPlainAsync("""{"school_class_id":"1","school_id":"3"}""");
        var none = await server.ConnectPlainAsync();

        await server.SendUdpAsync("""{"where":{"school_id":"2"},"data":{"order":42}}""");
        await server.SendUdpAsync(Marker);

        Assert.Equal("""{"order":42}""", await match.ReceiveAsync());
        Assert.Equal("marker", await match.ReceiveAsync());
        Assert.Equal("marker", await otherSchool.ReceiveAsync());
        Assert.Equal("marker", await none.ReceiveAsync());
    }

    [Fact]
    public async Task Http_publish_does_the_same_and_says_how_many_it_reached()
    {
        await using var server = await TestServer.StartAsync();
        var a = await server.ConnectPlainAsync("""{"school_id":"2"}""");
        var b = await server.ConnectPlainAsync("""{"school_id":"2","school_class_id":"9"}""");
        await server.ConnectPlainAsync("""{"school_id":"4"}""");

        var response = await server.PostApiAsync("publish", """{"where":{"school_id":"2"},"data":{"order":42}}""");

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, (await TestServer.JsonAsync(response)).GetProperty("recipients").GetInt32());
        Assert.Equal("""{"order":42}""", await a.ReceiveAsync());
        Assert.Equal("""{"order":42}""", await b.ReceiveAsync());
    }

    [Fact]
    public async Task A_later_attribute_message_replaces_the_attributes()
    {
        await using var server = await TestServer.StartAsync();
        var client = await server.ConnectPlainAsync("""{"school_id":"2"}""");
        await TestServer.SetPlainAttributesAsync(client, """{"school_id":"5"}""");

        await server.SendUdpAsync("""{"where":{"school_id":"2"},"data":"old"}""");
        await server.SendUdpAsync("""{"where":{"school_id":"5"},"data":"new"}""");

        Assert.Equal("new", await client.ReceiveAsync());
    }

    [Fact]
    public async Task Array_values_mean_any_of_and_empty_where_reaches_everyone()
    {
        await using var server = await TestServer.StartAsync();
        var one = await server.ConnectPlainAsync("""{"school_class_id":"1"}""");
        var two = await server.ConnectPlainAsync("""{"school_class_id":"2"}""");
        var three = await server.ConnectPlainAsync("""{"school_class_id":"3"}""");

        await server.SendUdpAsync("""{"where":{"school_class_id":["1","3"]},"data":"odd"}""");
        await server.SendUdpAsync("""{"where":{},"data":"all"}""");

        Assert.Equal("odd", await one.ReceiveAsync());
        Assert.Equal("all", await one.ReceiveAsync());
        Assert.Equal("all", await two.ReceiveAsync());
        Assert.Equal("odd", await three.ReceiveAsync());
        Assert.Equal("all", await three.ReceiveAsync());
    }

    [Fact]
    public async Task String_data_arrives_as_the_string_itself_and_other_data_as_json_text()
    {
        await using var server = await TestServer.StartAsync();
        var client = await server.ConnectPlainAsync("""{"k":"v"}""");

        await server.SendUdpAsync("""{"where":{"k":"v"},"data":"审批 \"42\" ready"}""");
        await server.SendUdpAsync("""{"where":{"k":"v"},"data":[1,"two",{"three":3}]}""");
        await server.SendUdpAsync("""{"where":{"k":"v"},"data":17}""");

        Assert.Equal("审批 \"42\" ready", await client.ReceiveAsync());
        Assert.Equal("""[1,"two",{"three":3}]""", await client.ReceiveAsync());
        Assert.Equal("17", await client.ReceiveAsync());
    }

    [Fact]
    public async Task Opening_and_closing_a_connection_is_logged_with_id_and_remote_address()
    {
        await using var server = await TestServer.StartAsync();
        var client = await server.ConnectPlainAsync();
        await client.DisposeAsync();

        await Timeouts.Until(() => server.Logs.WithEventId(1002).Any(), "the close was logged");
        var opened = Assert.Single(server.Logs.WithEventId(1001));
        var closed = Assert.Single(server.Logs.WithEventId(1002));
        Assert.Contains("127.0.0.1:", opened.Message, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:", closed.Message, StringComparison.Ordinal);
        var id = opened.Message.Split(' ')[1];
        Assert.StartsWith($"Connection {id} from", closed.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.Node.ConnectionCount);
    }
}
