using System.Net;
using System.Net.Sockets;
using System.Text;
using Herald.Server.Ingress;

namespace Herald.Server.Tests.Performance;

/// <summary>
/// Both ways UDP ingress takes datagrams off its socket (a batch per system call where supported, one per call
/// elsewhere) give the same datagrams, in order, with their sender, the oversized ones marked or cut, and 0 after the
/// socket's receive timeout.
/// </summary>
public sealed class DatagramReceiverTests
{
    private const int SlotBytes = 64;

    public static TheoryData<string> Receivers => DatagramBatchReceiver.IsSupported ? new() { "batch", "single" } : new() { "single" };

    [Theory]
    [MemberData(nameof(Receivers))]
    public void Queued_datagrams_come_out_in_order_with_their_sender_and_oversized_ones_marked(string kind)
    {
        using var socket = Bound();
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var receiver = Create(kind, socket);
        string[] sent = ["one", new string('x', SlotBytes + 10), "three"];
        foreach (var text in sent)
        {
            sender.SendTo(Encoding.ASCII.GetBytes(text), socket.LocalEndPoint!);
        }
        var received = new List<(string Text, bool Truncated)>();
        var from = new SocketAddress(AddressFamily.InterNetwork);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (received.Count < sent.Length && DateTime.UtcNow < deadline)
        {
            var count = receiver.Receive();
            for (var i = 0; i < count; i++)
            {
                var datagram = receiver.Datagram(i, out var truncated);
                receiver.CopySource(i, from);
                Assert.Equal(sender.LocalEndPoint, new IPEndPoint(IPAddress.Any, 0).Create(from));
                received.Add((Encoding.ASCII.GetString(datagram), truncated));
            }
        }

        Assert.Equal(3, received.Count);
        Assert.Equal(("one", false), received[0]);
        // Marked, or (recvfrom on Linux) cut to fill the slot, which ingress's size limit, one byte under it, drops.
        Assert.True(received[1].Truncated || received[1].Text.Length == SlotBytes, "a datagram larger than its slot is marked or fills it");
        Assert.Equal(("three", false), received[2]);
    }

    [Theory]
    [MemberData(nameof(Receivers))]
    public void A_wait_without_datagrams_ends_with_none_after_the_receive_timeout(string kind)
    {
        using var socket = Bound();
        var receiver = Create(kind, socket);

        Assert.Equal(0, receiver.Receive());
    }

    private static Socket Bound()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 100 };
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    private static IDatagramReceiver Create(string kind, Socket socket) => kind == "batch"
        ? new DatagramBatchReceiver(socket, SlotBytes)
        : new SingleDatagramReceiver(socket, SlotBytes);
}
