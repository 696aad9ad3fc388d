using System.Text;
using Herald.Core.Attributes;
using Herald.Core.Connections;
using Herald.Core.Protocols.Plain;
using Herald.Core.Sessions;
using Herald.Protocol;

namespace Herald.Core.Tests.Protocols;

/// <summary>The plain adapter: a bare attribute object becomes the session's attribute change; errors carry no id.</summary>
public sealed class PlainProtocolTests
{
    private static ValueTask Frame(Node node, Connection connection, string text) =>
        PlainProtocol.Instance.OnTextFrameAsync(node.SessionFor(connection), Encoding.UTF8.GetBytes(text));

    [Fact]
    public async Task An_attribute_object_replaces_the_attributes_without_a_reply_and_ping_is_answered_with_pong()
    {
        using var node = NodeFixture.Create();
        var (connection, transport) = node.Plain();

        await Frame(node, connection, """ {"school_id":2,"grade":"7"} """);
        await Frame(node, connection, " ping\n");

        Assert.True(connection.Attributes.TryGetValue("school_id", out var school) && school == "2");
        Assert.True(connection.Attributes.TryGetValue("grade", out var grade) && grade == "7");
        Assert.Equal(["pong"], transport.Texts);
    }

    [Fact]
    public async Task An_unreadable_object_and_a_refused_change_get_an_error_without_an_id()
    {
        using var node = NodeFixture.Create(new NodeOptions { AttributesFrom = AttributeSource.Token });
        var (connection, transport) = node.Plain();

        await Frame(node, connection, """{"a":{"nested":1}}""");
        await Frame(node, connection, """{"a":"1"}""");
        PlainProtocol.Instance.Refuse(connection, """{"id":5}"""u8, new CommandError(ErrorCodes.Internal, "internal error"));

        Assert.StartsWith($$"""{"error":{"code":{{ErrorCodes.InvalidAttributes}},""", transport.Texts[0]);
        Assert.Equal("""{"error":{"code":103,"message":"this server takes attributes only from the token's attrs claim (setting attributes_from=token); do not send attributes"}}""", transport.Texts[1]);
        Assert.Equal("""{"error":{"code":100,"message":"internal error"}}""", transport.Texts[2]);
        Assert.Equal(0, connection.Attributes.Count);
    }
}
