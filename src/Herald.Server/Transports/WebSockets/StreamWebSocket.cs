using System.Buffers;
using System.Runtime.CompilerServices;

namespace Herald.Server.Transports.WebSockets;

/// <summary>
/// Herald's WebSocket on the stream of an upgrade Kestrel served (a head the direct listener left to Kestrel: slow,
/// over 8 KiB, or written in a way its parser does not take). Kestrel's stream writes and flushes in one call; reads
/// of zero bytes wait for data without taking any, as on the bare socket. Kestrel's upgraded stream cannot drop the
/// connection by itself, so <paramref name="abortConnection"/> (the request's abort) does it; after a completed close
/// the request simply ends and Kestrel closes the connection.
/// </summary>
internal sealed class StreamWebSocket(Stream stream, Action abortConnection) : WebSocketTransport
{
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    /// <inheritdoc />
    protected override ValueTask<int> ReceiveAsync(Memory<byte> buffer) => stream.ReadAsync(buffer);

    /// <inheritdoc />
    protected override void AbortTransport() => abortConnection();

    /// <inheritdoc />
    protected override void CloseTransport() => stream.Dispose(); // the write lock is not disposed: a ping may still be finishing

    /// <inheritdoc />
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    protected override async ValueTask WriteOwnedAsync(byte[] buffer, int length)
    {
        try
        {
            await _writeLock.WaitAsync().ConfigureAwait(false);
            try
            {
                await stream.WriteAsync(buffer.AsMemory(0, length)).ConfigureAwait(false);
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
}
