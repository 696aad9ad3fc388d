using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Herald.Protocol;
using Herald.Server.Api;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Transports.Lean;

/// <summary>
/// Kestrel connection middleware that takes WebSocket connections out of the HTTP layer. It peeks at a connection's
/// first request head without consuming it; a clean WebSocket upgrade (see <see cref="UpgradeRequest"/>) is answered
/// here and the WebSocket runs over the raw connection, so none of Kestrel's HTTP/1.1 connection, request, headers and
/// features stay alive beside it (8.5–10 KB per connection, issue 8). Everything else (the HTTP API, /health, a
/// request this parser does not fully understand, a head over 8 KiB, a head not complete within
/// <see cref="HeadTimeout"/>) goes on to Kestrel untouched, where the HTTP endpoint serves it as before.
/// </summary>
internal sealed class LeanWebSocketListener(WebSocketEndpoint endpoint, ILogger<LeanWebSocketListener> logger)
{
    /// <summary>How long a client may take to send its first request head before Kestrel (and its own timeouts) take over.</summary>
    public static readonly TimeSpan HeadTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The middleware, for <c>ListenOptions.Use</c>.</summary>
    public ConnectionDelegate Use(ConnectionDelegate next) => connection => HandleAsync(connection, next);

    private async Task HandleAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var request = await PeekHeadAsync(connection).ConfigureAwait(false);
        if (request is null)
        {
            await next(connection).ConfigureAwait(false);
            return;
        }
        // One async frame for the handshake and the WebSocket's life: each frame pending per idle connection costs memory.
        var address = connection.RemoteEndPoint as IPEndPoint;
        var remote = WebSocketEndpoint.FormatRemote(address?.Address, address?.Port ?? 0);
        var stream = new ConnectionStream(connection);
        if (endpoint.Admit(request.Origin, address?.Address, remote) is { } refusal)
        {
            await RefuseAsync(stream, refusal).ConfigureAwait(false);
            return;
        }
        var native = request.Requests(ProtocolNames.SubprotocolV1);
        var subProtocol = native ? ProtocolNames.SubprotocolV1 : null;
        // Plain clients pass their token in the URL (browsers cannot set headers on a WebSocket); native clients in connect.
        string? token = null;
        if (!native && QueryHelpers.ParseNullableQuery(request.Query) is { } query && query.TryGetValue("token", out var values))
        {
            token = values;
        }
        var accepted = SwitchingProtocols(request.Key, subProtocol);
        request = null; // not kept for the connection's life
        try
        {
            await stream.WriteAsync(accepted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            return; // gone before the handshake completed
        }
        ServerLog.LeanUpgrade(logger, remote, stream.WritesToSocket);
        var output = new WebSocketOutput(stream, connection.Abort);
        var socket = WebSocket.CreateFromStream(output, new WebSocketCreationOptions
        {
            IsServer = true,
            SubProtocol = subProtocol,
            KeepAliveInterval = endpoint.KeepAliveInterval(native),
            KeepAliveTimeout = endpoint.KeepAliveTimeout(native),
        });
        output.Socket = socket;
        // Receives are not cancelled by token: an aborted connection completes the input, which ends the pending read,
        // and an idle receive then holds no cancellation registration.
        await endpoint.RunAsync(socket, output, native, remote, token, connection.ConnectionClosed, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>The upgrade request, its head consumed; or null with nothing consumed, for Kestrel.</summary>
    private static async Task<UpgradeRequest?> PeekHeadAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        using var timeout = new CancellationTokenSource(HeadTimeout);
        while (true)
        {
            System.IO.Pipelines.ReadResult result;
            try
            {
                result = await input.ReadAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return null; // slow head: Kestrel reads on from where it is, under its own header timeout
            }
            catch (IOException)
            {
                return null; // reset before a head arrived: Kestrel's HTTP layer ends such a connection quietly
            }
            var buffer = result.Buffer;
            var verdict = UpgradeRequest.Inspect(buffer, out var request);
            if (verdict == HeadVerdict.NeedMore && !result.IsCompleted && !result.IsCanceled)
            {
                input.AdvanceTo(buffer.Start, buffer.End); // nothing consumed, all examined: wait for more
                continue;
            }
            if (verdict == HeadVerdict.Upgrade)
            {
                input.AdvanceTo(buffer.GetPosition(request!.HeadLength));
                return request;
            }
            input.AdvanceTo(buffer.Start, buffer.Start); // nothing consumed or examined: Kestrel's first read returns at once
            return null;
        }
    }

    /// <summary>RFC 6455 4.2.2: the server's handshake, as ASP.NET Core writes it without compression.</summary>
    internal static byte[] SwitchingProtocols(string key, string? subProtocol)
    {
        var head = new StringBuilder(160)
            .Append("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: ")
            .Append(WebSocketHandshake.AcceptKey(key)).Append("\r\n");
        if (subProtocol is not null)
        {
            head.Append("Sec-WebSocket-Protocol: ").Append(subProtocol).Append("\r\n");
        }
        return Encoding.ASCII.GetBytes(head.Append("\r\n").ToString());
    }

    /// <summary>The same JSON error the HTTP path answers, then the connection closes.</summary>
    private static async Task RefuseAsync(ConnectionStream stream, WebSocketEndpoint.Refusal refusal)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new ErrorBody(new ErrorDetail(refusal.Code, refusal.Message)), ApiJsonContext.Relaxed.ErrorBody);
        var reason = refusal.Status switch { 403 => "Forbidden", 429 => "Too Many Requests", _ => "Bad Request" };
        var head = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {refusal.Status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
        try
        {
            await stream.WriteAsync(head.Concat(body).ToArray()).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // the client left first
        }
    }
}
