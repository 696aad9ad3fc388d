using System.Text;
using Herald.Core.Connections;
using Herald.Core.Hub;
using Herald.Core.Protocols;
using Herald.Core.Protocols.HeraldV1;
using Herald.Core.Protocols.Plain;
using Herald.Core.Routing;
using Herald.Core.Sessions;
using Herald.Protocol;

namespace Herald.Core.Tests.Protocols;

/// <summary>Events that are neither replies nor publications (joins, leaves, server subscriptions): each adapter encodes them in its own words.</summary>
public sealed class ClientEventTests
{
    /// <summary>A protocol that counts how often it is asked to encode an event.</summary>
    private sealed class CountingProtocol(byte[]? frame) : IClientProtocol
    {
        public int Encoded;

        public byte[]? EventFrame(ClientEvent clientEvent)
        {
            Encoded++;
            return frame;
        }

        public ValueTask OnTextFrameAsync(ClientSession session, ReadOnlyMemory<byte> utf8) => ValueTask.CompletedTask;

        public void Refuse(Connection connection, ReadOnlySpan<byte> frame, CommandError error)
        {
        }

        public bool OneCopyPerPublish => false;

        public byte[] PushFrame(Publication publication, string? channel, ulong offset, bool inbox) => [];

        public bool ConnectsByCommand => false;

        public byte[]? PingFrame => null;

        public bool Recovers => false;

        public byte[]? DisconnectFrame(int code, string reason) => null;
    }

    [Fact]
    public void An_event_is_encoded_once_per_protocol_however_many_recipients_speak_it()
    {
        var speaks = new CountingProtocol("one"u8.ToArray());
        var silent = new CountingProtocol(null);
        var frames = new EventFrames(new SubscriptionChangedByServer("news", Subscribed: true));

        for (var i = 0; i < 1000; i++)
        {
            Assert.Equal("one"u8.ToArray(), frames.For(speaks));
            Assert.Null(frames.For(silent));
        }

        Assert.Equal(1, speaks.Encoded);
        Assert.Equal(1, silent.Encoded);
    }

    [Fact]
    public void Herald_v1_says_joins_leaves_and_server_subscriptions_as_its_pushes_and_plain_clients_hear_none()
    {
        var info = Encoding.UTF8.GetBytes("""{"name":"Ann"}""");
        var join = new PresenceChanged("chat:1", "n-1", "42", info, Joined: true);
        var leave = join with { Joined = false, Info = default };

        Assert.Equal("""{"push":"join","channel":"chat:1","client":"n-1","user":"42","info":{"name":"Ann"}}""", Text(HeraldV1Protocol.Instance.EventFrame(join)));
        Assert.Equal("""{"push":"leave","channel":"chat:1","client":"n-1","user":"42"}""", Text(HeraldV1Protocol.Instance.EventFrame(leave)));
        Assert.Equal("""{"push":"subscribe","channel":"news"}""", Text(HeraldV1Protocol.Instance.EventFrame(new SubscriptionChangedByServer("news", true))));
        Assert.Equal("""{"push":"unsubscribe","channel":"news"}""", Text(HeraldV1Protocol.Instance.EventFrame(new SubscriptionChangedByServer("news", false))));
        Assert.Null(PlainProtocol.Instance.EventFrame(join));
        Assert.Null(PlainProtocol.Instance.EventFrame(new SubscriptionChangedByServer("news", true)));
    }

    [Theory]
    [InlineData("""{"push":"join","channel":"c","client":"x","user":"","info":{"a":[1,2]}}""", true)]
    [InlineData("""{"push":"leave","channel":"c","client":"x","user":"7"}""", true)]
    [InlineData("""{"push":"pub","channel":"c","data":1}""", false)]
    [InlineData("""{"push":"join","channel":"c"}""", false)]
    [InlineData("""{"push":1,"channel":"c","client":"x"}""", false)]
    [InlineData("""{"push":"join","channel":5,"client":"x"}""", false)]
    [InlineData("not json", false)]
    [InlineData("[]", false)]
    public void The_cluster_wire_of_a_join_or_leave_reads_back_into_the_same_push_and_nothing_else(string frame, bool presence)
    {
        var read = PresenceWire.TryRead(Encoding.UTF8.GetBytes(frame), out var change);

        Assert.Equal(presence, read);
        if (presence)
        {
            Assert.Equal(frame, Text(PresenceWire.Write(change)));
            Assert.Equal(frame, Text(HeraldV1Protocol.Instance.EventFrame(change)));
        }
    }

    [Fact]
    public void Making_a_session_for_a_command_allocates_nothing()
    {
        using var node = NodeFixture.Create();
        var (connection, _) = node.Plain();
        var session = node.SessionFor(connection); // warm up
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            session = node.SessionFor(connection);
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Same(connection, session.Connection);
        Assert.Equal(0, allocated);
    }

    private static string Text(byte[]? frame) => frame is null ? "(null)" : Encoding.UTF8.GetString(frame);
}
