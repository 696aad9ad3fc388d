using System.Buffers;
using System.Net.Sockets;

namespace Herald.Server.Transports.WebSockets;

/// <summary>
/// Herald's WebSocket on a bare accepted socket: what every clean upgrade runs on (<see cref="DirectConnectionListener"/>),
/// with no Kestrel connection, pipe or HTTP object beside it. The socket is non-blocking, so a write the kernel takes
/// at once completes on the calling thread with one system call.
/// </summary>
internal sealed class SocketWebSocket : WebSocketTransport
{
    private readonly Socket _socket;
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    public SocketWebSocket(Socket socket)
    {
        _socket = socket;
        socket.Blocking = false; // writes: see WriteOwnedAsync
    }

    /// <inheritdoc />
    protected override ValueTask<int> ReceiveAsync(Memory<byte> buffer) => _socket.ReceiveAsync(buffer, SocketFlags.None);

    /// <inheritdoc />
    protected override void AbortTransport() => _socket.Dispose(); // a pending receive ends at once; the peer sees the connection drop

    /// <inheritdoc />
    protected override void CloseTransport()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // already reset by the peer
        }
        _socket.Dispose();
        // The write lock is not disposed: a ping may still be finishing.
    }

    /// <summary>
    /// While the kernel takes the bytes the write completes on the calling thread with one system call and no
    /// asynchronous machinery (no send operation object stays cached per connection); only what it cannot take at
    /// once (a client that does not read) waits asynchronously.
    /// </summary>
    protected override ValueTask WriteOwnedAsync(byte[] buffer, int length)
    {
        if (!_writeLock.Wait(0))
        {
            return FinishWriteAsync(buffer, 0, length, locked: false);
        }
        int sent;
        try
        {
            sent = SendNow(buffer, length);
        }
        catch
        {
            _writeLock.Release();
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
        if (sent < length)
        {
            return FinishWriteAsync(buffer, sent, length, locked: true);
        }
        _writeLock.Release();
        ArrayPool<byte>.Shared.Return(buffer);
        return default;
    }

    private async ValueTask FinishWriteAsync(byte[] buffer, int sent, int length, bool locked)
    {
        try
        {
            if (!locked)
            {
                await _writeLock.WaitAsync().ConfigureAwait(false);
            }
            try
            {
                if (!locked)
                {
                    sent = SendNow(buffer, length);
                }
                while (sent < length)
                {
                    sent += await _socket.SendAsync(buffer.AsMemory(sent, length - sent), SocketFlags.None).ConfigureAwait(false);
                }
            }
            catch (SocketException ex)
            {
                throw new IOException("the connection was lost: " + ex.SocketErrorCode, ex);
            }
            finally
            {
                _writeLock.Release();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Sends what the kernel takes now; the count sent (less than <paramref name="length"/> when it would block).</summary>
    private int SendNow(byte[] buffer, int length)
    {
        var sent = 0;
        while (sent < length)
        {
            var count = _socket.Send(buffer, sent, length - sent, SocketFlags.None, out var error);
            if (error == SocketError.WouldBlock)
            {
                break;
            }
            if (error != SocketError.Success)
            {
                throw new IOException("the connection was lost: " + error, new SocketException((int)error));
            }
            sent += count;
        }
        return sent;
    }
}
