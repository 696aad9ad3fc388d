using Herald.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Transports.WebSockets;

/// <summary>
/// Serves the WebSocket upgrades that reach ASP.NET Core: the heads <see cref="DirectConnectionListener"/> left to
/// Kestrel (slow, over 8 KiB, or written in a way its parser does not take). They pass the same
/// <see cref="WebSocketAdmission"/> and run the same <see cref="WebSocketTransport"/> as the direct ones, over the
/// stream Kestrel hands out after the 101.
/// </summary>
internal sealed class HttpUpgradeEndpoint(Node node, WebSocketAdmission admission, ILogger<HttpUpgradeEndpoint> logger)
{
    /// <summary>Answers one WebSocket request and runs the WebSocket until it closes.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress;
        var remote = WebSocketAdmission.FormatRemote(address, context.Connection.RemotePort);
        var origin = context.Request.Headers.Origin.ToString();
        var admitted = admission.Choose(context.Request.Path.Value ?? "/", context.Request.Headers.SecWebSocketProtocol.ToString(), context.Request.QueryString.Value,
            string.IsNullOrEmpty(origin) ? null : origin);
        if (admission.Admit(admitted, context.Request.Headers.Origin, address, remote) is { } refusal)
        {
            await Api.ApiError.WriteAsync(context, refusal.Status, refusal.Code, refusal.Message).ConfigureAwait(false);
            return;
        }
        Stream? stream;
        try
        {
            stream = await WebSocketHandshake.UpgradeAsync(context, admitted.SubProtocol).ConfigureAwait(false);
        }
        catch
        {
            admission.Release(address); // admitted, but gone before the handshake completed
            throw;
        }
        if (stream is null)
        {
            admission.Release(address);
            await Api.ApiError.WriteAsync(context, StatusCodes.Status400BadRequest, Protocol.ErrorCodes.BadRequest,
                "WebSockets are served over HTTP/1.1 only").ConfigureAwait(false);
            return;
        }
        // Awaited: Kestrel keeps the connection while this request runs. It gives back the place Admit took when it ends.
        await new StreamWebSocket(stream, context.Abort).RunAsync(node, admitted, remote, logger, admission, address).ConfigureAwait(false);
    }
}
