using System.Text;
using Herald.Core.Connections;
using Herald.Core.Protocols;
using Herald.Core.Protocols.HeraldV1;
using Herald.Core.Protocols.Plain;

namespace Herald.Core.Tests.Protocols;

/// <summary>
/// What each adapter sends for a publication, and that a frame is encoded once per publish and wire format: the hub
/// asks the recipient's adapter (<see cref="IClientProtocol.PushFrame"/>) and shares the frame.
/// </summary>
public sealed class PushFrameTests
{
    private static readonly byte[] Data = """{"order":42}"""u8.ToArray();

    private static Herald.Core.Routing.Publication Publication(bool dataIsString = false) =>
        new(dataIsString ? """ "hello \u00e9" """u8.ToArray()[1..^1] : Data, dataIsString, where: null);

    [Fact]
    public void Each_connection_kind_is_spoken_for_by_its_adapter()
    {
        Assert.Same(PlainProtocol.Instance, ClientProtocols.For(ConnectionKind.Plain));
        Assert.Same(HeraldV1Protocol.Instance, ClientProtocols.For(ConnectionKind.Native));
        Assert.True(PlainProtocol.Instance.OneCopyPerPublish);
        Assert.False(HeraldV1Protocol.Instance.OneCopyPerPublish);
    }

    [Fact]
    public void A_plain_client_gets_the_data_alone_whatever_the_target()
    {
        var publication = Publication();
        Assert.Equal("""{"order":42}""", Encoding.UTF8.GetString(PlainProtocol.Instance.PushFrame(publication, "orders", 7, inbox: false)));
        Assert.Equal("""{"order":42}""", Encoding.UTF8.GetString(PlainProtocol.Instance.PushFrame(publication, null, 3, inbox: true)));
        Assert.Equal("hello é", Encoding.UTF8.GetString(PlainProtocol.Instance.PushFrame(Publication(dataIsString: true), null, 0, inbox: false)));
    }

    [Fact]
    public void A_herald_v1_client_gets_a_push_naming_the_channel_and_offset_or_an_inbox_entry()
    {
        var publication = Publication();
        Assert.Equal("""{"push":"pub","channel":"orders","offset":7,"data":{"order":42}}""",
            Encoding.UTF8.GetString(HeraldV1Protocol.Instance.PushFrame(publication, "orders", 7, inbox: false)));
        Assert.Equal("""{"push":"pub","data":{"order":42}}""",
            Encoding.UTF8.GetString(HeraldV1Protocol.Instance.PushFrame(publication, null, 0, inbox: false)));
        Assert.Equal("""{"push":"inbox","offset":3,"data":{"order":42}}""",
            Encoding.UTF8.GetString(HeraldV1Protocol.Instance.PushFrame(publication, null, 3, inbox: true)));
    }

    [Fact]
    public void A_frame_is_encoded_once_per_publish_and_position_and_shared()
    {
        var publication = Publication();
        var first = HeraldV1Protocol.Instance.PushFrame(publication, "orders", 7, inbox: false);
        Assert.Same(first, HeraldV1Protocol.Instance.PushFrame(publication, "orders", 7, inbox: false));
        Assert.Same(HeraldV1Protocol.Instance.PushFrame(publication, null, 3, inbox: true), HeraldV1Protocol.Instance.PushFrame(publication, null, 3, inbox: true));
        Assert.Same(PlainProtocol.Instance.PushFrame(publication, "a", 1, inbox: false), PlainProtocol.Instance.PushFrame(publication, "b", 2, inbox: false));
        Assert.NotSame(first, HeraldV1Protocol.Instance.PushFrame(publication, "orders", 8, inbox: false));
    }
}
