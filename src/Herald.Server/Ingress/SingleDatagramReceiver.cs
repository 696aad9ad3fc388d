using System.Net;
using System.Net.Sockets;

namespace Herald.Server.Ingress;

/// <summary>
/// One datagram per system call (<c>recvfrom</c>), into a buffer pinned once: the receiver where
/// <see cref="DatagramBatchReceiver"/> is not supported.
/// </summary>
internal sealed class SingleDatagramReceiver(Socket socket, int slotBytes) : IDatagramReceiver
{
    private readonly byte[] _buffer = GC.AllocateUninitializedArray<byte>(slotBytes, pinned: true);
    private readonly SocketAddress _source = new(socket.AddressFamily);
    private int _length;
    private bool _truncated;

    /// <inheritdoc />
    public int Receive()
    {
        try
        {
            _length = socket.ReceiveFrom(_buffer, SocketFlags.None, _source);
            _truncated = false;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.MessageSize)
        {
            // Windows reports a datagram larger than the buffer as an error; Linux truncates it to fill the buffer.
            _length = _buffer.Length;
            _truncated = true;
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
        {
            return 0;
        }
        return 1;
    }

    /// <inheritdoc />
    public ReadOnlySpan<byte> Datagram(int index, out bool truncated)
    {
        truncated = _truncated;
        return _buffer.AsSpan(0, _length);
    }

    /// <inheritdoc />
    public void CopySource(int index, SocketAddress address)
    {
        _source.Buffer.Span[.._source.Size].CopyTo(address.Buffer.Span);
        address.Size = _source.Size;
    }
}
