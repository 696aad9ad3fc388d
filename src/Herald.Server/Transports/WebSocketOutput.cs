using System.Buffers;
using System.Buffers.Binary;
using System.Net.WebSockets;

namespace Herald.Server.Transports;

/// <summary>
/// The upgraded connection's byte stream, with every write serialised, so that Herald can write its own text frames
/// next to the control frames (ping, pong, close) the <see cref="System.Net.WebSockets.WebSocket"/> on top writes.
/// Herald frames its data itself because it can then put a whole burst of queued frames into one buffer: one write,
/// one flush and one system call for the burst, where <c>WebSocket.SendAsync</c> costs one each per frame. Reads pass
/// straight through (only the WebSocket reads). When the WebSocket is aborted it disposes this stream; the connection
/// under it is then aborted too (<paramref name="abortConnection"/>), so the pending read ends and the peer sees the
/// connection drop (disposing Kestrel's upgraded stream alone would do neither).
/// </summary>
internal sealed class WebSocketOutput(Stream inner, Action abortConnection) : Stream
{
    /// <summary>Frame header: 2 bytes, plus 2 or 8 for the extended payload length (server frames are not masked).</summary>
    private const int MaxHeaderBytes = 10;

    private readonly SemaphoreSlim _writeLock = new(1, 1);

    /// <summary>The WebSocket on top, set once it is made; its state tells an abort from a completed close.</summary>
    public WebSocket? Socket { get; set; }

    /// <summary>Writes <paramref name="texts"/> as final text frames, all in one write.</summary>
    public async ValueTask WriteTextFramesAsync(ReadOnlyMemory<byte[]> texts)
    {
        var size = 0;
        foreach (var text in texts.Span)
        {
            size += MaxHeaderBytes + text.Length;
        }
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var length = 0;
            foreach (var text in texts.Span)
            {
                length += WriteFrame(text, buffer.AsSpan(length));
            }
            await WriteLockedAsync(buffer.AsMemory(0, length)).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Writes <paramref name="text"/> as one final text frame.</summary>
    public async ValueTask WriteTextFrameAsync(ReadOnlyMemory<byte> text)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MaxHeaderBytes + text.Length);
        try
        {
            var length = WriteFrame(text.Span, buffer);
            await WriteLockedAsync(buffer.AsMemory(0, length)).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>RFC 6455 5.2: FIN + text opcode, then the payload length in 7, 7+16 or 7+64 bits, then the payload.</summary>
    internal static int WriteFrame(ReadOnlySpan<byte> payload, Span<byte> destination) =>
        Lean.SocketWebSocket.WriteFrame(0x1, payload, destination);

    private async ValueTask WriteLockedAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellation = default)
    {
        await _writeLock.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            await inner.WriteAsync(bytes, cancellation).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <inheritdoc />
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        WriteLockedAsync(buffer, cancellationToken);

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteLockedAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    /// <inheritdoc />
    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <inheritdoc />
    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    /// <inheritdoc />
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(buffer, cancellationToken);

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.ReadAsync(buffer, offset, count, cancellationToken);

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanWrite => true;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (Socket?.State == WebSocketState.Aborted)
            {
                abortConnection();
            }
            // The write lock is not disposed: a write may still be finishing when the WebSocket aborts the stream.
            inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
