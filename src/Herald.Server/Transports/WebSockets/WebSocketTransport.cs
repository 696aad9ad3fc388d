using System.Buffers;
using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;
using Herald.Core;
using Herald.Core.Connections;
using Microsoft.Extensions.Logging;
using static Herald.Server.Transports.WebSockets.WebSocketFrames;

namespace Herald.Server.Transports.WebSockets;

/// <summary>
/// Herald's server side of RFC 6455, written for the hot path and for idle connections (issue 8), over any byte
/// transport: <see cref="SocketWebSocket"/> runs it on a bare socket (every clean upgrade, taken before Kestrel),
/// <see cref="StreamWebSocket"/> on the stream of an upgrade Kestrel served. An idle connection holds this object, its
/// transport and one pending zero-byte receive; no buffer, no pipe, no timer (plain clients' pings come from the node's
/// keep-alive sweep, <see cref="IKeepAliveTransport"/>). A read buffer is rented only while bytes are arriving. Client
/// frames must be masked; no extension is negotiated, so reserved bits are errors. Text messages must be UTF-8 (else
/// close 1007), fragmented messages are reassembled, a message over the node's limit is dropped unread and reported to
/// the node (which closes the connection), and a protocol error closes with 1002. The subclass serialises writes,
/// because control frames (pong, ping, close) may be written beside the connection's data frames; the connection
/// itself never sends concurrently.
/// </summary>
internal abstract class WebSocketTransport : IConnectionTransport, IKeepAliveTransport, IDisposable
{
    private const int ReadBufferSize = 4096;

    private int _closeSent;
    private int _aborted;

    /// <summary>
    /// Receives into <paramref name="buffer"/>: the count read, 0 at the end of the stream. An empty buffer waits until
    /// bytes can be read without taking any (the zero-byte read an idle connection waits in).
    /// </summary>
    protected abstract ValueTask<int> ReceiveAsync(Memory<byte> buffer);

    /// <summary>
    /// Writes the first <paramref name="length"/> bytes of <paramref name="buffer"/>, after any write in progress, and
    /// returns the buffer (rented) to the pool once written. May be called from any thread, beside any other write.
    /// </summary>
    protected abstract ValueTask WriteOwnedAsync(byte[] buffer, int length);

    /// <summary>Drops the connection under the WebSocket at once; a pending receive ends.</summary>
    protected abstract void AbortTransport();

    /// <summary>Ends the connection under the WebSocket after the close handshake (the server closes TCP first, RFC 6455 7.1.1).</summary>
    protected abstract void CloseTransport();

    /// <summary>True once the close frame went out (or the connection is gone): no data frame may follow.</summary>
    private bool Closed => Volatile.Read(ref _closeSent) != 0 || Volatile.Read(ref _aborted) != 0;

    /// <inheritdoc />
    public ValueTask SendAsync(ReadOnlyMemory<byte> utf8Text)
    {
        ThrowIfClosed();
        return Thread.CurrentThread.IsThreadPoolThread ? WriteTextFrameAsync(utf8Text) : SendFromThreadPoolAsync(utf8Text);
    }

    /// <summary>
    /// A publish that arrives by UDP is fanned out on the ingress thread: writing each recipient's frame there would
    /// keep that one thread busy with every write of a 10,000-recipient broadcast. It hands the write to the thread
    /// pool instead, so the fan-out loop only queues, the writes run on every core, and the frames that queue up
    /// meanwhile go out together.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendFromThreadPoolAsync(ReadOnlyMemory<byte> utf8Text)
    {
        await Task.Yield();
        await WriteTextFrameAsync(utf8Text).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask SendManyAsync(ReadOnlyMemory<byte[]> utf8Texts)
    {
        ThrowIfClosed();
        var size = 0;
        foreach (var text in utf8Texts.Span)
        {
            size += MaxHeaderBytes + text.Length;
        }
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        var length = 0;
        foreach (var text in utf8Texts.Span)
        {
            length += WriteFrame(OpText, text, buffer.AsSpan(length));
        }
        return WriteOwnedAsync(buffer, length);
    }

    private ValueTask WriteTextFrameAsync(ReadOnlyMemory<byte> text)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MaxHeaderBytes + text.Length);
        return WriteOwnedAsync(buffer, WriteFrame(OpText, text.Span, buffer));
    }

    /// <inheritdoc />
    public async ValueTask CloseAsync(int code, string reason)
    {
        if (Interlocked.Exchange(ref _closeSent, 1) == 0)
        {
            await WriteCloseAsync(code, reason).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public void SendPing()
    {
        if (!Closed)
        {
            _ = SendControlQuietlyAsync(OpPing);
        }
    }

    private async Task SendControlQuietlyAsync(byte opcode)
    {
        try
        {
            await WriteControlAsync(opcode, ReadOnlyMemory<byte>.Empty).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            Abort(); // the receive side sees the end and the node cleans up
        }
    }

    /// <inheritdoc />
    public void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) == 0)
        {
            AbortTransport();
        }
    }

    /// <summary>Ends the connection after the close handshake, unless it was aborted.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _aborted, 1) == 0)
        {
            CloseTransport();
        }
    }

    /// <summary>
    /// Runs the WebSocket as a node connection until it closes: opens it on <paramref name="node"/>, authenticates a
    /// plain client's URL token, hands every message to the node, and tells the node the close code and reason (null
    /// code when the connection was lost without a close frame). Never throws. Everything a connection needs while it
    /// waits is in this one method's frame: each pending frame of nested async methods would cost memory per idle
    /// connection. When <paramref name="admittedBy"/> is given, its place for <paramref name="address"/> is given back at the end.
    /// </summary>
    public async Task RunAsync(Node node, WebSocketAdmission.Admitted admitted, string remote, ILogger logger,
        WebSocketAdmission? admittedBy = null, System.Net.IPAddress? address = null)
    {
        Connection? connection = null;
        (int? Code, string? Reason) closed = (null, "connection lost");
        var max = node.Options.MaxMessageSize;
        byte[]? input = null;
        int start = 0, end = 0;
        byte[]? message = null; // a fragmented message being put together
        var messageLength = 0;
        byte messageOpcode = 0; // the opcode of the fragmented message in progress; 0 when none
        var discarding = false; // a message was too large: data frames are dropped from now on
        long skip = 0; // bytes of a dropped frame still to arrive
        try
        {
            var token = admitted.Token;
            connection = node.Open(this, admitted.Kind, remote, string.IsNullOrEmpty(token) ? null : token);
            if (admitted.Pusher is { } pusher)
            {
                node.StartPusher(connection, pusher);
            }
            else if (admitted.Kind == ConnectionKind.Plain && connection.State == ConnectionState.AwaitingConnect)
            {
                await node.AuthenticatePlainAsync(connection, string.IsNullOrEmpty(token) ? null : token, CancellationToken.None).ConfigureAwait(false);
            }
            token = null;
            admitted = default; // the frame lives as long as the connection: keep no token or handshake in it
            while (true)
            {
                if (start == end)
                {
                    if (input is not null)
                    {
                        ArrayPool<byte>.Shared.Return(input);
                        input = null;
                    }
                    start = end = 0;
                    // Zero-byte receive: wait for data without holding a buffer while idle.
                    await ReceiveAsync(Memory<byte>.Empty).ConfigureAwait(false);
                }
                input ??= ArrayPool<byte>.Shared.Rent(ReadBufferSize);
                if (end == input.Length)
                {
                    // The buffer is full with the start of a frame at its end: move it to the front to read the rest.
                    input.AsSpan(start, end - start).CopyTo(input);
                    end -= start;
                    start = 0;
                }
                var received = await ReceiveAsync(input.AsMemory(end)).ConfigureAwait(false);
                if (received == 0)
                {
                    closed = (null, "connection lost");
                    return;
                }
                end += received;
                // Every complete frame in [start, end).
                while (true)
                {
                    if (skip > 0)
                    {
                        var dropped = (int)Math.Min(skip, end - start);
                        start += dropped;
                        skip -= dropped;
                        if (skip > 0)
                        {
                            break;
                        }
                    }
                    var available = end - start;
                    if (available < 2)
                    {
                        break;
                    }
                    var b0 = input[start];
                    var b1 = input[start + 1];
                    var fin = (b0 & 0x80) != 0;
                    var opcode = (byte)(b0 & 0x0F);
                    var length7 = b1 & 0x7F;
                    var header = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + 4;
                    if ((b0 & 0x70) != 0)
                    {
                        closed = await FailAsync(1002, "reserved bits set: no extension was negotiated").ConfigureAwait(false);
                        return;
                    }
                    if ((b1 & 0x80) == 0)
                    {
                        closed = await FailAsync(1002, "client frames must be masked").ConfigureAwait(false);
                        return;
                    }
                    if (available < header)
                    {
                        break;
                    }
                    long length = length7 switch
                    {
                        126 => BinaryPrimitives.ReadUInt16BigEndian(input.AsSpan(start + 2)),
                        127 => (long)BinaryPrimitives.ReadUInt64BigEndian(input.AsSpan(start + 2)),
                        _ => length7,
                    };
                    if (length < 0)
                    {
                        closed = await FailAsync(1002, "frame length out of range").ConfigureAwait(false);
                        return;
                    }
                    var control = opcode >= OpClose;
                    if (control)
                    {
                        if (opcode > OpPong)
                        {
                            closed = await FailAsync(1002, "unknown opcode").ConfigureAwait(false);
                            return;
                        }
                        if (!fin || length > MaxControlPayload)
                        {
                            closed = await FailAsync(1002, "control frames must be final and at most 125 bytes").ConfigureAwait(false);
                            return;
                        }
                    }
                    else if (opcode > OpBinary)
                    {
                        closed = await FailAsync(1002, "unknown opcode").ConfigureAwait(false);
                        return;
                    }
                    else if (opcode == OpContinuation ? messageOpcode == 0 && !discarding : messageOpcode != 0)
                    {
                        closed = await FailAsync(1002, opcode == OpContinuation ? "continuation without a message to continue" : "a new message before the last one ended").ConfigureAwait(false);
                        return;
                    }
                    if (!control && (discarding || length > max - messageLength))
                    {
                        // Too large: drop it as it arrives, never buffer it.
                        if (!discarding)
                        {
                            discarding = true;
                            node.OnMessageTooLarge(connection);
                            if (message is not null)
                            {
                                ArrayPool<byte>.Shared.Return(message);
                                message = null;
                            }
                        }
                        messageOpcode = fin ? (byte)0 : (opcode == OpContinuation ? messageOpcode : opcode);
                        messageLength = 0;
                        start += header;
                        skip = length;
                        continue;
                    }
                    var frameLength = header + (int)length;
                    if (available < frameLength)
                    {
                        // Wait for the rest of the frame, with room for it in the buffer.
                        if (input.Length - start < frameLength)
                        {
                            var target = input.Length >= frameLength ? input : ArrayPool<byte>.Shared.Rent(frameLength);
                            input.AsSpan(start, available).CopyTo(target);
                            if (!ReferenceEquals(target, input))
                            {
                                ArrayPool<byte>.Shared.Return(input);
                                input = target;
                            }
                            start = 0;
                            end = available;
                        }
                        break;
                    }
                    var payload = input.AsMemory(start + header, (int)length);
                    Unmask(payload.Span, input.AsSpan(start + header - 4, 4));
                    start += frameLength;
                    switch (opcode)
                    {
                        case OpPing:
                            node.OnActivity(connection);
                            if (!Closed)
                            {
                                await WriteControlAsync(OpPong, payload).ConfigureAwait(false);
                            }
                            continue;
                        case OpPong:
                            node.OnActivity(connection);
                            continue;
                        case OpClose:
                            {
                                closed = await OnCloseFrameAsync(payload).ConfigureAwait(false);
                                return;
                            }
                    }
                    if (discarding)
                    {
                        continue;
                    }
                    if (fin && messageOpcode == 0)
                    {
                        // A whole message in one frame: handed over from the read buffer, no copy.
                        if (opcode == OpBinary)
                        {
                            node.OnBinaryMessage(connection);
                        }
                        else if (!Utf8.IsValid(payload.Span))
                        {
                            closed = await FailAsync(1007, "text message is not valid UTF-8").ConfigureAwait(false);
                            return;
                        }
                        else
                        {
                            await node.OnTextMessageAsync(connection, payload).ConfigureAwait(false);
                        }
                        continue;
                    }
                    // A fragment: gather until the final one.
                    if (opcode != OpContinuation)
                    {
                        messageOpcode = opcode;
                    }
                    if (message is null || message.Length < messageLength + payload.Length)
                    {
                        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(ReadBufferSize, Math.Min(Math.Max(messageLength + payload.Length, (message?.Length ?? 0) * 2), max)));
                        if (message is not null)
                        {
                            message.AsSpan(0, messageLength).CopyTo(bigger);
                            ArrayPool<byte>.Shared.Return(message);
                        }
                        message = bigger;
                    }
                    payload.Span.CopyTo(message.AsSpan(messageLength));
                    messageLength += payload.Length;
                    if (!fin)
                    {
                        continue;
                    }
                    var whole = message.AsMemory(0, messageLength);
                    var wholeOpcode = messageOpcode;
                    messageOpcode = 0;
                    messageLength = 0;
                    if (wholeOpcode == OpBinary)
                    {
                        node.OnBinaryMessage(connection);
                    }
                    else if (!Utf8.IsValid(whole.Span))
                    {
                        closed = await FailAsync(1007, "text message is not valid UTF-8").ConfigureAwait(false);
                        return;
                    }
                    else
                    {
                        await node.OnTextMessageAsync(connection, whole).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or ObjectDisposedException or IOException or OperationCanceledException)
        {
            closed = (null, "connection lost");
        }
        catch (Exception ex)
        {
            ServerLog.WebSocketFailed(logger, connection?.Id ?? remote, ex);
        }
        finally
        {
            if (input is not null)
            {
                ArrayPool<byte>.Shared.Return(input);
            }
            if (message is not null)
            {
                ArrayPool<byte>.Shared.Return(message);
            }
            Dispose();
            if (connection is not null)
            {
                node.OnClosed(connection, closed.Code, closed.Reason);
            }
            admittedBy?.Release(address);
        }
    }

    /// <summary>The client closes (or answers Herald's close): answer it unless Herald closed first, and end.</summary>
    private async Task<(int? Code, string? Reason)> OnCloseFrameAsync(ReadOnlyMemory<byte> payload)
    {
        if (payload.Length == 1)
        {
            return await FailAsync(1002, "a close frame's code takes two bytes").ConfigureAwait(false);
        }
        int? code = null;
        var reason = "";
        if (payload.Length >= 2)
        {
            code = BinaryPrimitives.ReadUInt16BigEndian(payload.Span);
            if (!IsValidCloseCode(code.Value))
            {
                return await FailAsync(1002, "invalid close code").ConfigureAwait(false);
            }
            if (!Utf8.IsValid(payload.Span[2..]))
            {
                return await FailAsync(1007, "close reason is not valid UTF-8").ConfigureAwait(false);
            }
            reason = Encoding.UTF8.GetString(payload.Span[2..]);
        }
        if (Interlocked.Exchange(ref _closeSent, 1) == 0)
        {
            try
            {
                await WriteCloseAsync(code ?? 1000, "").ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException)
            {
                // the client did not wait for the answer
            }
        }
        // A close frame without a code (a browser's close() without arguments) is reported as 1005, "no status
        // received" (RFC 6455 7.4.1); 1006 stays for connections lost without any close frame.
        return (code ?? 1005, reason);
    }

    /// <summary>Fails the connection (RFC 6455 7.1.7): a close frame with <paramref name="code"/> unless one went out, then the end.</summary>
    private async Task<(int? Code, string? Reason)> FailAsync(int code, string reason)
    {
        if (Interlocked.Exchange(ref _closeSent, 1) == 0)
        {
            try
            {
                await WriteCloseAsync(code, reason).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException)
            {
                // gone already
            }
        }
        return (code, reason);
    }

    private ValueTask WriteCloseAsync(int code, string reason)
    {
        Span<byte> payload = stackalloc byte[MaxControlPayload];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code);
        var reasonBytes = Encoding.UTF8.GetBytes(Truncate(reason), payload[2..]);
        return WriteControlAsync(OpClose, payload[..(2 + reasonBytes)].ToArray());
    }

    private ValueTask WriteControlAsync(byte opcode, ReadOnlyMemory<byte> payload)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(2 + MaxControlPayload);
        return WriteOwnedAsync(buffer, WriteFrame(opcode, payload.Span, buffer));
    }

    private void ThrowIfClosed()
    {
        if (Closed)
        {
            throw new WebSocketException(WebSocketError.InvalidState, "the WebSocket is closed");
        }
    }
}
