using Herald.Core.Connections;
using Herald.Protocol;

namespace Herald.Core.Tests.Connections;

public sealed class ConnectionTests
{
    [Fact]
    public void A_connection_that_stops_reading_is_disconnected_as_slow_consumer_and_others_keep_receiving()
    {
        using var node = NodeFixture.Create(new NodeOptions { SendQueueLimit = 8 });
        var stalled = new RecordingTransport { Stalled = true };
        var slow = node.Open(stalled, ConnectionKind.Plain, "127.0.0.1:9");
        var (_, healthy) = node.Plain();

        for (var i = 0; i < 20; i++)
        {
            node.Publish($$"""{"where":{},"data":{{i}}}""");
        }

        Assert.Equal(ConnectionState.Closing, slow.State);
        Assert.Equal(1, node.Counters.SlowConsumers);
        Assert.Equal(20, healthy.Texts.Count);
        Assert.True(stalled.Sent.Count <= 9);
    }

    [Fact]
    public void Queue_byte_limit_also_counts()
    {
        using var node = NodeFixture.Create(new NodeOptions { SendQueueMaxBytes = 1000 });
        var stalled = new RecordingTransport { Stalled = true };
        var slow = node.Open(stalled, ConnectionKind.Plain, "127.0.0.1:9");
        var big = new string('x', 400);

        for (var i = 0; i < 5; i++)
        {
            node.Publish($$"""{"where":{},"data":"{{big}}"}""");
        }

        Assert.Equal(ConnectionState.Closing, slow.State);
    }

    [Fact]
    public void A_single_frame_larger_than_the_byte_limit_still_fits_an_empty_queue()
    {
        using var node = NodeFixture.Create(new NodeOptions { SendQueueMaxBytes = 1000 });
        var (connection, transport) = node.Plain();

        Assert.True(connection.TrySend(new byte[5000]));
        Assert.Equal(ConnectionState.Ready, connection.State);
        Assert.Single(transport.Texts);
    }

    [Fact]
    public void Disconnect_sends_a_push_to_native_clients_then_closes_with_the_code()
    {
        using var node = NodeFixture.Create();
        var (connection, transport) = node.Native();

        connection.Disconnect(DisconnectCodes.Shutdown, "server shutting down");

        Assert.Equal("""{"push":"disconnect","code":4000,"reason":"server shutting down","reconnect":true}""", transport.Texts.Last());
        Assert.Equal(4000, transport.CloseCode);
        Assert.False(connection.TrySend([1]));
    }

    [Fact]
    public void Close_codes_from_4500_mean_do_not_reconnect()
    {
        Assert.True(DisconnectCodes.ShouldReconnect(DisconnectCodes.SlowConsumer));
        Assert.True(DisconnectCodes.ShouldReconnect(1001));
        Assert.False(DisconnectCodes.ShouldReconnect(DisconnectCodes.BadRequest));
        Assert.False(DisconnectCodes.ShouldReconnect(DisconnectCodes.ForceDisconnect));
    }
}
