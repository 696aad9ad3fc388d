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
/// rented only while a message is being read. A clean HTTP/1.1 upgrade is taken before Kestrel by
/// <see cref="Lean.LeanConnectionListener"/>, which shares this endpoint's checks and connection loop; this endpoint's
/// <see cref="HandleAsync"/> serves the upgrades that reach ASP.NET Core.
/// </summary>
internal sealed class WebSocketEndpoint(Node node, HeraldServerOptions options, ILogger<WebSocketEndpoint> logger)
{
    private const int InitialBufferSize = 4096;
    private readonly OriginCheck _origins = new(options.AllowedOrigins);
    private readonly ConnectionRateLimiter _rate = new(options.MaxConnectionsPerIpPerSecond);
    private readonly ConnectionsPerAddress _open = new(options.MaxConnectionsPerIp, options.TrustedProxies);

    /// <summary>Addresses with connections counted against max_connections_per_ip now.</summary>
    internal int CountedAddresses => _open.AddressCount;

    /// <summary>The reason a new WebSocket is refused before the handshake: HTTP status, Herald error code, message.</summary>
    internal readonly record struct Refusal(int Status, int Code, string Message);

    /// <summary>The node connections run on.</summary>
    internal Node Node => node;

    /// <summary>Where connection failures are logged.</summary>
    internal ILogger Logger => logger;

    public async Task HandleAsync(HttpContext context)
    {
        var remote = FormatRemote(context.Connection.RemoteIpAddress, context.Connection.RemotePort);
        if (Admit(context.Request.Headers.Origin, context.Connection.RemoteIpAddress, remote) is { } refusal)
        {
            await Api.ApiError.WriteAsync(context, refusal.Status, refusal.Code, refusal.Message).ConfigureAwait(false);
            return;
        }
        try
        {
            var native = context.WebSockets.WebSocketRequestedProtocols.Contains(ProtocolNames.SubprotocolV1, StringComparer.Ordinal);
            var accept = new WebSocketAcceptContext
            {
                SubProtocol = native ? ProtocolNames.SubprotocolV1 : null,
                KeepAliveInterval = KeepAliveInterval(native),
                KeepAliveTimeout = KeepAliveTimeout(native),
            };
            var (socket, output) = await WebSocketHandshake.AcceptAsync(context, accept).ConfigureAwait(false);
            // Plain clients pass their token in the URL (browsers cannot set headers on a WebSocket); native clients in connect.
            var token = native ? null : (string?)context.Request.Query["token"];
            await RunAsync(socket, output, native, remote, token, context.RequestAborted, context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            Release(context.Connection.RemoteIpAddress);
        }
    }

    /// <summary>
    /// The checks before a handshake, shared by the HTTP path and the lean one (<see cref="Lean.LeanConnectionListener"/>):
    /// the origin allowlist, the per-address rate of new connections and the per-address cap on open ones. Null when the
    /// WebSocket may open: the caller then holds a place for <paramref name="address"/> and must <see cref="Release"/> it
    /// when the WebSocket ends (or fails to open).
    /// </summary>
    internal Refusal? Admit(string? origin, System.Net.IPAddress? address, string remote)
    {
        if (!_origins.IsAllowed(origin))
        {
            ServerLog.WebSocketRefused(logger, remote, "origin not allowed: " + origin);
            return new Refusal(StatusCodes.Status403Forbidden, ErrorCodes.PermissionDenied,
                "this origin may not open WebSockets here (setting allowed_origins)");
        }
        if (!_rate.TryAcquire(address))
        {
            ServerLog.WebSocketRefused(logger, remote, "too many new connections per second from this address");
            return new Refusal(StatusCodes.Status429TooManyRequests, ErrorCodes.LimitExceeded,
                $"more than {options.MaxConnectionsPerIpPerSecond} new connections per second from this address (setting max_connections_per_ip_per_second); retry with backoff");
        }
        if (!_open.TryAcquire(address))
        {
            ServerLog.WebSocketRefused(logger, remote, "too many open connections from this address");
            return new Refusal(StatusCodes.Status429TooManyRequests, ErrorCodes.LimitExceeded,
                $"{_open.Limit} connections are open from this address already, the most allowed (setting max_connections_per_ip; " +
                "list a reverse proxy or NAT gateway in trusted_proxies); close one or retry later");
        }
        return null;
    }

    /// <summary>Gives back the place <see cref="Admit"/> took for a WebSocket from <paramref name="address"/>.</summary>
    internal void Release(System.Net.IPAddress? address) => _open.Release(address);

    // Native clients get protocol-level pings (they must answer); plain clients, who cannot see those, get
    // WebSocket ping frames, which every browser and mini-program runtime answers by itself.
    internal TimeSpan KeepAliveInterval(bool native) => native ? TimeSpan.Zero : node.Options.PingInterval;

    internal TimeSpan KeepAliveTimeout(bool native) => native ? Timeout.InfiniteTimeSpan : node.Options.PongTimeout;

    /// <summary>Runs an accepted WebSocket as a node connection until it closes.</summary>
    internal async Task RunAsync(WebSocket socket, WebSocketOutput? output, bool native, string remote, string? token,
        CancellationToken aborted, CancellationToken receiveCancellation)
    {
        using var socketLifetime = socket;
        var connection = node.Open(new WebSocketTransport(socket, output), native ? ConnectionKind.Native : ConnectionKind.Plain, remote,
            string.IsNullOrEmpty(token) ? null : token);
        int? closeCode = null;
        string? closeReason = null;
        try
        {
            if (!native && connection.State == ConnectionState.AwaitingConnect)
            {
                await node.AuthenticatePlainAsync(connection, string.IsNullOrEmpty(token) ? null : token, aborted).ConfigureAwait(false);
            }
            await ReceiveLoopAsync(socket, connection, receiveCancellation).ConfigureAwait(false);
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

    /// <summary>The client's address as logs show it: <c>1.2.3.4:port</c>, <c>[::1]:port</c> (IPv4-mapped addresses as IPv4).</summary>
    internal static string FormatRemote(System.Net.IPAddress? ip, int port)
    {
        if (ip is null)
        {
            return "unknown";
        }
        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
        }
        return ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"[{ip}]:{port}"
            : $"{ip}:{port}";
    }
}
