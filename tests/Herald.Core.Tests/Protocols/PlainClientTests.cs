namespace Herald.Core.Tests.Protocols;

public sealed class PlainClientTests
{
    [Theory]
    [InlineData("not json", 104)]
    [InlineData("[1,2]", 112)]
    [InlineData("\"text\"", 112)]
    [InlineData("""{"a":{"b":1}}""", 112)]
    [InlineData("""{"a":null}""", 112)]
    [InlineData("""{"":"x"}""", 112)]
    [InlineData("""{"a":"1"} {"b":"2"}""", 104)]
    public void Bad_attribute_messages_get_an_error_and_keep_the_old_attributes(string message, int code)
    {
        using var node = NodeFixture.Create();
        var (connection, transport) = node.Plain("""{"school_id":"2"}""");

        node.Send(connection, message);

        Assert.StartsWith($$"""{"error":{"code":{{code}},""", transport.Texts.Single());
        Assert.True(connection.Attributes.TryGetValue("school_id", out _));
    }

    [Fact]
    public void Too_many_attributes_are_refused()
    {
        using var node = NodeFixture.Create(new NodeOptions { MaxAttributes = 2 });
        var (connection, transport) = node.Plain();

        node.Send(connection, """{"a":"1","b":"2","c":"3"}""");

        Assert.StartsWith("""{"error":{"code":108,""", transport.Texts.Single());
        Assert.Equal(0, connection.Attributes.Count);
    }

    [Fact]
    public void Ping_text_is_answered_with_pong()
    {
        using var node = NodeFixture.Create();
        var (connection, transport) = node.Plain();

        node.Send(connection, "ping");

        Assert.Equal(["pong"], transport.Texts);
    }
}
