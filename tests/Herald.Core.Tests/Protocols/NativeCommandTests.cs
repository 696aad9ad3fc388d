using Herald.Core.Connections;
using Herald.Protocol;

namespace Herald.Core.Tests.Protocols;

public sealed class NativeCommandTests
{
    [Fact]
    public void Connect_replies_with_client_id_and_keepalive_settings()
    {
        using var node = NodeFixture.Create();
        var (connection, transport) = node.Native("""{"school_id":"2"}""");

        Assert.Equal(ConnectionState.Ready, connection.State);
        Assert.Equal($$$"""{"id":1,"result":{"client":"{{{connection.Id}}}","version":"{{{ServerInfo.Version}}}","ping":25,"pong":10}}""", transport.Texts.Single());
        Assert.True(connection.Attributes.TryGetValue("school_id", out var school) && school == "2");
    }

    [Theory]
    [InlineData("""{"id":2,"method":"subscribe","params":{"channel":"x"}}""", ErrorCodes.NotConnected)]
    [InlineData("""{"id":2,"method":"ping"}""", ErrorCodes.NotConnected)]
    public void Commands_before_connect_are_refused(string command, int code)
    {
        using var node = NodeFixture.Create();
        var transport = new RecordingTransport();
        var connection = node.Open(transport, ConnectionKind.Native, "127.0.0.1:5");

        node.Send(connection, command);

        Assert.Equal($$$"""{"id":2,"error":{"code":{{{code}}},"message":"send the connect command first"}}""", transport.Texts.Single());
    }

    [Theory]
    [InlineData("""{"id":5,"method":"connect"}""", ErrorCodes.AlreadyConnected)]
    [InlineData("""{"id":5,"method":"launch"}""", ErrorCodes.UnknownMethod)]
    [InlineData("""{"id":5,"method":"subscribe","params":{"channel":""}}""", ErrorCodes.InvalidChannel)]
    [InlineData("""{"id":5,"method":"subscribe","params":{"channel":"a b"}}""", ErrorCodes.InvalidChannel)]
    [InlineData("""{"id":5,"method":"subscribe","params":{}}""", ErrorCodes.InvalidChannel)]
    [InlineData("""{"id":5,"method":"subscribe","params":[1]}""", ErrorCodes.BadRequest)]
    [InlineData("""{"id":5,"method":"publish","params":{"channel":"x","data":1}}""", ErrorCodes.PermissionDenied)]
    [InlineData("""{"id":5,"method":"attrs","params":{"attrs":[1]}}""", ErrorCodes.InvalidAttributes)]
    [InlineData("""{"id":5,"method":"attrs","params":{"attrs":{"a":{"nested":1}}}}""", ErrorCodes.InvalidAttributes)]
    [InlineData("""{"id":5,"method":"attrs"}""", ErrorCodes.BadRequest)]
    [InlineData("""{"id":5}""", ErrorCodes.BadRequest)]
    [InlineData("""{"id":5,"method":7}""", ErrorCodes.BadRequest)]
    public void Bad_commands_get_an_error_with_their_id_and_a_stable_code(string command, int code)
    {
        using var node = NodeFixture.Create();
        var (connection, transport) = node.Native();

        node.Send(connection, command);

        var reply = transport.Texts.Last();
        Assert.StartsWith($$"""{"id":5,"error":{"code":{{code}},""", reply);
        Assert.Equal(ConnectionState.Ready, connection.State);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("""{"id":-1,"method":"ping"}""")]
    [InlineData("""{"method":"ping"} trailing""")]
    public void Unparseable_commands_get_an_error_without_id_and_the_connection_stays(string command)
    {
        using var node = NodeFixture.Create();
        var (connection, transport) = node.Native();

        node.Send(connection, command);
        node.Send(connection, """{"id":9,"method":"ping"}""");

        Assert.StartsWith("""{"error":{"code":104,""", transport.Texts[^2]);
        Assert.Equal("""{"id":9,"result":{}}""", transport.Texts[^1]);
    }

    [Fact]
    public void Subscribing_beyond_the_limit_is_refused()
    {
        using var node = NodeFixture.Create(new NodeOptions { MaxChannelsPerConnection = 2 });
        var (connection, transport) = node.Native();

        node.Send(connection, """{"id":2,"method":"subscribe","params":{"channel":"a"}}""");
        node.Send(connection, """{"id":3,"method":"subscribe","params":{"channel":"b"}}""");
        node.Send(connection, """{"id":4,"method":"subscribe","params":{"channel":"c"}}""");

        Assert.StartsWith("""{"id":4,"error":{"code":108,""", transport.Texts.Last());
        Assert.Equal(["a", "b"], connection.Channels.Order());
    }

    [Fact]
    public void Client_publish_works_when_enabled()
    {
        using var node = NodeFixture.Create(new NodeOptions { ClientPublish = true });
        var (publisher, tp) = node.Native();
        var (subscriber, ts) = node.Native();
        node.Send(subscriber, """{"id":2,"method":"subscribe","params":{"channel":"chat"}}""");

        node.Send(publisher, """{"id":7,"method":"publish","params":{"channel":"chat","data":{"text":"hi"}}}""");

        Assert.Equal("""{"id":7,"result":{"recipients":1}}""", tp.Texts.Last());
        Assert.Equal("""{"push":"pub","channel":"chat","offset":1,"data":{"text":"hi"}}""", ts.Texts.Last());
    }

    [Fact]
    public void Client_publish_without_data_is_refused_and_publishes_nothing()
    {
        using var node = NodeFixture.Create(new NodeOptions { ClientPublish = true });
        var (publisher, tp) = node.Native();
        var (subscriber, ts) = node.Native();
        node.Send(subscriber, """{"id":2,"method":"subscribe","params":{"channel":"chat"}}""");

        node.Send(publisher, """{"id":7,"method":"publish","params":{"channel":"chat"}}""");

        Assert.Equal("""{"id":7,"error":{"code":104,"message":"publish needs \"data\""}}""", tp.Texts.Last());
        Assert.DoesNotContain(ts.Texts, t => t.Contains("\"push\":\"pub\"", StringComparison.Ordinal));
    }

    [Fact]
    public void Attrs_command_replaces_attributes()
    {
        using var node = NodeFixture.Create();
        var (connection, transport) = node.Native("""{"a":"1"}""");

        node.Send(connection, """{"id":2,"method":"attrs","params":{"attrs":{"b":"2"}}}""");
        node.Publish("""{"where":{"a":"1"},"data":"old"}""");
        node.Publish("""{"where":{"b":"2"},"data":"new"}""");

        Assert.Equal("""{"push":"pub","data":"new"}""", transport.Texts.Last());
        Assert.DoesNotContain(transport.Texts, t => t.Contains("old", StringComparison.Ordinal));
    }

    [Fact]
    public void Binary_frames_get_an_error_and_the_connection_stays()
    {
        using var node = NodeFixture.Create();
        var (connection, transport) = node.Native();

        node.OnBinaryMessage(connection);

        Assert.StartsWith("""{"error":{"code":104,"message":"binary frames""", transport.Texts.Last());
        Assert.Equal(ConnectionState.Ready, connection.State);
    }

    [Fact]
    public void Too_large_messages_close_the_connection_with_4501()
    {
        using var node = NodeFixture.Create();
        var (connection, transport) = node.Native();

        node.OnMessageTooLarge(connection);

        Assert.Contains("\"code\":4501", transport.Texts.Last(), StringComparison.Ordinal);
        Assert.Equal(4501, transport.CloseCode);
    }
}
