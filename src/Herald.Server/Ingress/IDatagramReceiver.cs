using System.Net;

namespace Herald.Server.Ingress;

/// <summary>
/// How UDP ingress takes datagrams off its socket: a batch per wait, read in place until the next wait. The socket's
/// receive timeout bounds each wait, so the loop notices a stop.
/// </summary>
internal interface IDatagramReceiver
{
    /// <summary>
    /// Waits for datagrams and returns how many arrived (0 when the socket's receive timeout passed first). Throws
    /// <see cref="System.Net.Sockets.SocketException"/> on any other failure, <see cref="ObjectDisposedException"/> once
    /// the socket is closed.
    /// </summary>
    int Receive();

    /// <summary>
    /// Datagram <paramref name="index"/> of the last batch; <paramref name="truncated"/> when it did not fit its slot. A
    /// receiver that cannot tell hands it over cut to the slot's size: callers make the slot one byte larger than the
    /// largest datagram they take, so a datagram that fills it is too large either way.
    /// </summary>
    ReadOnlySpan<byte> Datagram(int index, out bool truncated);

    /// <summary>Copies the sender of datagram <paramref name="index"/> into <paramref name="address"/> (the OS's own layout).</summary>
    void CopySource(int index, SocketAddress address);
}
