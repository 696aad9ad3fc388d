using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Herald.Server.Transports.Lean;

/// <summary>
/// A raw Kestrel connection as a stream for a WebSocket. Reads come from the connection's input pipe; a zero-byte read
/// waits for data without taking any (Kestrel's socket receiver itself waits with a zero-byte read, so an idle
/// connection holds no buffer). Writes go straight to the socket when Kestrel exposes it: no output pipe and no hop to
/// Kestrel's send queue per frame, which is where a broadcast spends its time (one frame per recipient). Callers
/// serialise writes (<see cref="WebSocketOutput"/> does).
/// </summary>
internal sealed class ConnectionStream(ConnectionContext connection) : Stream
{
    private readonly PipeReader _input = connection.Transport.Input;
    private readonly Socket? _socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;

    /// <summary>True when writes bypass Kestrel's output pipe.</summary>
    public bool WritesToSocket => _socket is not null;

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var result = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
        var data = result.Buffer;
        if (buffer.Length == 0 || data.IsEmpty)
        {
            _input.AdvanceTo(data.Start); // a zero-byte read only waits: nothing consumed, the next read returns at once
            return 0;
        }
        var count = (int)Math.Min(data.Length, buffer.Length);
        data.Slice(0, count).CopyTo(buffer.Span);
        _input.AdvanceTo(data.GetPosition(count));
        return count;
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    /// <inheritdoc />
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_socket is null)
        {
            await connection.Transport.Output.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            return;
        }
        try
        {
            while (!buffer.IsEmpty)
            {
                var sent = await _socket.SendAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                buffer = buffer[sent..];
            }
        }
        catch (SocketException ex)
        {
            throw new IOException("the connection was lost: " + ex.SocketErrorCode, ex); // what a stream's caller expects
        }
    }

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    /// <inheritdoc />
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask; // every write is sent at once

    /// <inheritdoc />
    public override void Flush()
    {
    }

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
}
