using System.Buffers;
using System.Net.WebSockets;
using Herald.Core;
using Herald.Core.Connections;
using Herald.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Transports;

/// <summary>
/// Accepts WebSocket connections on any path: with the <c>herald.v1</c> subprotocol as native clients, without it as
/// plain clients. Idle connections hold no receive buffer: each message starts with a zero-byte read and a buffer is
/// rented only while a message is being read.
/// </summary>
internal sealed class WebSocketEndpoint(Node node, HeraldServerOptions options, ILogger<WebSocketEndpoint> logger)
{
    private const int InitialBufferSize = 4096;
    private readonly OriginCheck _origins = new(options.AllowedOrigins);
    private readonly ConnectionRateLimiter _rate = new(options.MaxConnectionsPerIpPerSecond);

    public async Task HandleAsync(HttpContext context)
    {
        if (!_origins.IsAllowed(context.Request.Headers.Origin))
        {
            ServerLog.WebSocketRefused(logger, FormatRemote(context), "origin not allowed: " + context.Request.Headers.Origin);
            await Api.ApiError.WriteAsync(context, StatusCodes.Status403Forbidden, ErrorCodes.PermissionDenied,
                "this origin may not open WebSockets here (setting allowed_origins)").ConfigureAwait(false);
            return;
        }
        if (!_rate.TryAcquire(context.Connection.RemoteIpAddress))
        {
            ServerLog.WebSocketRefused(logger, FormatRemote(context), "too many new connections per second from this address");
            await Api.ApiError.WriteAsync(context, StatusCodes.Status429TooManyRequests, ErrorCodes.LimitExceeded,
                $"more than {options.MaxConnectionsPerIpPerSecond} new connections per second from this address (setting max_connections_per_ip_per_second); retry with backoff").ConfigureAwait(false);
            return;
        }
        var native = context.WebSockets.WebSocketRequestedProtocols.Contains(ProtocolNames.SubprotocolV1, StringComparer.Ordinal);
        var accept = new WebSocketAcceptContext
        {
            SubProtocol = native ? ProtocolNames.SubprotocolV1 : null,
            // Native clients get protocol-level pings (they must answer); plain clients, who cannot see those, get
            // WebSocket ping frames, which every browser and mini-program runtime answers by itself.
            KeepAliveInterval = native ? TimeSpan.Zero : node.Options.PingInterval,
            KeepAliveTimeout = native ? Timeout.InfiniteTimeSpan : node.Options.PongTimeout,
        };
        var (socket, output) = await WebSocketHandshake.AcceptAsync(context, accept).ConfigureAwait(false);
        using var socketLifetime = socket;
        var remote = FormatRemote(context);
        // Plain clients pass their token in the URL (browsers cannot set headers on a WebSocket); native clients in connect.
        var token = native ? null : (string?)context.Request.Query["token"];
        var connection = node.Open(new WebSocketTransport(socket, output), native ? ConnectionKind.Native : ConnectionKind.Plain, remote,
            string.IsNullOrEmpty(token) ? null : token);
        int? closeCode = null;
        string? closeReason = null;
        try
        {
            if (!native && connection.State == ConnectionState.AwaitingConnect)
            {
                await node.AuthenticatePlainAsync(connection, string.IsNullOrEmpty(token) ? null : token, context.RequestAborted).ConfigureAwait(false);
            }
            await ReceiveLoopAsync(socket, connection, context.RequestAborted).ConfigureAwait(false);
            closeCode = (int?)socket.CloseStatus;
            closeReason = socket.CloseStatusDescription;
            if (socket.State == WebSocketState.CloseReceived)
            {
                // The client started the close: answer it so the handshake completes.
                await socket.CloseOutputAsync(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, "", CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            closeCode ??= (int?)socket.CloseStatus;
            closeReason ??= socket.CloseStatusDescription ?? "connection lost";
        }
        catch (Exception ex)
        {
            ServerLog.WebSocketFailed(logger, connection.Id, ex);
        }
        finally
        {
            node.OnClosed(connection, closeCode, closeReason);
        }
    }

    private async Task ReceiveLoopAsync(WebSocket socket, Connection connection, CancellationToken cancellation)
    {
        var max = node.Options.MaxMessageSize;
        var discarding = false;
        while (true)
        {
            // Zero-byte read: wait for the next message without holding a buffer while idle.
            var result = await socket.ReceiveAsync(Memory<byte>.Empty, cancellation).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }
            var buffer = ArrayPool<byte>.Shared.Rent(InitialBufferSize);
            var count = 0;
            try
            {
                while (!result.EndOfMessage)
                {
                    if (count == buffer.Length)
                    {
                        if (discarding || count > max)
                        {
                            count = 0; // keep reading to find the end, but keep nothing
                        }
                        else
                        {
                            var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, max + 1));
                            buffer.AsSpan(0, count).CopyTo(bigger);
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = bigger;
                        }
                    }
                    result = await socket.ReceiveAsync(buffer.AsMemory(count), cancellation).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }
                    count += result.Count;
                    if (count > max && !discarding)
                    {
                        discarding = true;
                        node.OnMessageTooLarge(connection);
                    }
                }
                if (discarding)
                {
                    continue; // after a too-large message only the close handshake matters
                }
                if (result.MessageType == WebSocketMessageType.Binary)
                {
                    node.OnBinaryMessage(connection);
                }
                else
                {
                    await node.OnTextMessageAsync(connection, buffer.AsMemory(0, count)).ConfigureAwait(false);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private static string FormatRemote(HttpContext context)
    {
        var ip = context.Connection.RemoteIpAddress;
        if (ip is null)
        {
            return "unknown";
        }
        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
        }
        return ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"[{ip}]:{context.Connection.RemotePort}"
            : $"{ip}:{context.Connection.RemotePort}";
    }
}
