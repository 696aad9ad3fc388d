using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Herald.Core;
using Herald.Server.Transports.WebSockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Transports;

/// <summary>
/// The listen socket of the WebSocket/HTTP port, under Kestrel (issue 8). It accepts each connection itself and peeks
/// at its first request head without consuming it (<c>MSG_PEEK</c>). A clean HTTP/1.1 WebSocket upgrade
/// (<see cref="UpgradeRequest"/>) is answered here and runs as a <see cref="SocketWebSocket"/> on the bare socket: no
/// Kestrel connection, pipes, HTTP objects or per-connection timer stay alive beside it. Every other connection (the
/// HTTP API, /health, a head the parser does not fully understand, over 8 KiB, or not complete within
/// <see cref="HeadTimeout"/>) is handed to Kestrel untouched, as Kestrel's own socket transport would have accepted it
/// (<see cref="SocketConnectionContextFactory"/>); a WebSocket upgrade among those is served by
/// <see cref="HttpUpgradeEndpoint"/>, with the same checks and the same WebSocket implementation.
/// </summary>
internal sealed class DirectConnectionListener : IConnectionListener
{
    /// <summary>How long a client may take to send its first request head before Kestrel (and its own timeouts) take over.</summary>
    public static readonly TimeSpan HeadTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _listenSocket;
    private readonly WebSocketAdmission _admission;
    private readonly Node _node;
    private readonly SocketConnectionContextFactory _contexts;
    private readonly ILogger _logger;
    private readonly Channel<ConnectionContext> _forKestrel = Channel.CreateUnbounded<ConnectionContext>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _acceptLoop;

    public DirectConnectionListener(Socket listenSocket, WebSocketAdmission admission, Node node, SocketConnectionContextFactory contexts, ILogger logger)
    {
        _listenSocket = listenSocket;
        _admission = admission;
        _node = node;
        _contexts = contexts;
        _logger = logger;
        EndPoint = listenSocket.LocalEndPoint!;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <inheritdoc />
    public EndPoint EndPoint { get; }

    /// <inheritdoc />
    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _forKestrel.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            return null; // unbound: Kestrel's accept loop ends
        }
    }

    /// <inheritdoc />
    public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        await StopAcceptingAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAcceptingAsync().ConfigureAwait(false);
        while (_forKestrel.Reader.TryRead(out var connection))
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        _contexts.Dispose();
    }

    private async Task StopAcceptingAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
            _listenSocket.Dispose();
        }
        await _acceptLoop.ConfigureAwait(false);
        _forKestrel.Writer.TryComplete();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listenSocket.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (_stopping.IsCancellationRequested && ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                continue; // the client left while queued
            }
            catch (SocketException ex)
            {
                // Out of file descriptors or memory: say so, and give the process a moment rather than spinning.
                ServerLog.AcceptFailed(_logger, ex.SocketErrorCode.ToString(), ex.Message);
                await Task.Delay(50).ConfigureAwait(false);
                continue;
            }
            socket.NoDelay = true;
            _ = ClassifyAsync(socket);
        }
    }

    /// <summary>Peeks at the first request head; never throws.</summary>
    private async Task ClassifyAsync(Socket socket)
    {
        UpgradeRequest? request = null;
        var buffer = ArrayPool<byte>.Shared.Rent(UpgradeRequest.MaxHeadBytes);
        try
        {
            var verdict = HeadVerdict.NeedMore;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
            {
                timeout.CancelAfter(HeadTimeout);
                var delay = 1;
                while (verdict == HeadVerdict.NeedMore)
                {
                    int peeked;
                    try
                    {
                        // The first wait holds no buffer: a zero-byte receive completes once bytes arrived.
                        await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                        peeked = await socket.ReceiveAsync(buffer.AsMemory(0, UpgradeRequest.MaxHeadBytes), SocketFlags.Peek, timeout.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        break; // slow head: Kestrel reads it from the start, under its own header timeout
                    }
                    if (peeked == 0)
                    {
                        socket.Dispose(); // closed before a request: nothing to answer
                        return;
                    }
                    verdict = UpgradeRequest.Inspect(new ReadOnlySequence<byte>(buffer, 0, peeked), out request);
                    if (verdict == HeadVerdict.NeedMore)
                    {
                        // Part of a head is there and stays in the socket until all of it is: look again shortly.
                        await Task.Delay(delay, timeout.Token).ConfigureAwait(false);
                        delay = Math.Min(delay * 2, 100);
                    }
                }
            }
            if (verdict != HeadVerdict.Upgrade || _stopping.IsCancellationRequested)
            {
                PassOn(socket);
                return;
            }
            // Take the head out of the socket; what follows it (the client's first frames) stays there for the WebSocket.
            for (var taken = 0; taken < request!.HeadLength;)
            {
                taken += await socket.ReceiveAsync(buffer.AsMemory(taken, request.HeadLength - taken), SocketFlags.None).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            PassOn(socket);
            return;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            socket.Dispose(); // reset before a head arrived
            return;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        // Not awaited: this method's frame ends here, so an idle WebSocket holds one pending frame fewer.
        _ = UpgradeAsync(socket, request);
    }

    /// <summary>Hands a connection to Kestrel as its socket transport would have accepted it.</summary>
    private void PassOn(Socket socket)
    {
        ConnectionContext connection;
        try
        {
            connection = _contexts.Create(socket);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            socket.Dispose();
            return;
        }
        if (!_forKestrel.Writer.TryWrite(connection))
        {
            _ = connection.DisposeAsync(); // stopping
        }
    }

    private async Task UpgradeAsync(Socket socket, UpgradeRequest request)
    {
        var address = socket.RemoteEndPoint as IPEndPoint;
        var remote = WebSocketAdmission.FormatRemote(address?.Address, address?.Port ?? 0);
        try
        {
            var admitted = _admission.Choose(request.Path, request.Protocols, request.Query, request.Origin);
            if (_admission.Admit(admitted, request.Origin, address?.Address, remote) is { } refusal)
            {
                await SendAsync(socket, WebSocketHandshake.RefusalResponse(refusal)).ConfigureAwait(false);
                socket.Shutdown(SocketShutdown.Both);
                socket.Dispose();
                return;
            }
            try
            {
                await SendAsync(socket, WebSocketHandshake.SwitchingProtocols(request.Key, admitted.SubProtocol)).ConfigureAwait(false);
            }
            catch
            {
                _admission.Release(address?.Address); // admitted, but gone before the handshake completed
                throw;
            }
            ServerLog.DirectUpgrade(_logger, remote);
            // Not awaited: the WebSocket's whole life is one pending frame (RunAsync never throws), not one per caller.
            // It gives back the place Admit took for the address when it ends.
            _ = new SocketWebSocket(socket).RunAsync(_node, admitted, remote, _logger, _admission, address?.Address);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            socket.Dispose(); // gone before the handshake completed
        }
    }

    /// <summary>
    /// Sends a handshake answer. A fresh connection's send buffer always has room for it, so it goes out with one
    /// non-blocking call: an asynchronous send would leave a send operation object cached on the socket for the
    /// connection's life (about 0.4 KB per idle connection); only if the kernel takes less does it wait.
    /// </summary>
    private static async ValueTask SendAsync(Socket socket, byte[] bytes)
    {
        socket.Blocking = false;
        var sent = socket.Send(bytes, 0, bytes.Length, SocketFlags.None, out var error);
        if (error is not (SocketError.Success or SocketError.WouldBlock))
        {
            throw new SocketException((int)error);
        }
        while (sent < bytes.Length)
        {
            sent += await socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None).ConfigureAwait(false);
        }
    }
}
