using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Herald.Server.Transports;

/// <summary>
/// Accepts a WebSocket request. For an HTTP/1.1 upgrade Herald answers the handshake itself (RFC 6455 4.2.2, as
/// ASP.NET Core's <c>AcceptWebSocketAsync</c> does without compression) so that it can put a
/// <see cref="WebSocketOutput"/> between the connection and the WebSocket: data frames are then written by Herald, a
/// burst in one write. Any other request (an HTTP/2 WebSocket) goes through ASP.NET Core's own accept.
/// </summary>
internal static class WebSocketHandshake
{
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>The accepted WebSocket, and the output Herald writes its frames to (null on the fallback path).</summary>
    public static async Task<(WebSocket Socket, WebSocketOutput? Output)> AcceptAsync(HttpContext context, WebSocketAcceptContext accept)
    {
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        string? key = context.Request.Headers.SecWebSocketKey;
        if (upgrade is not { IsUpgradableRequest: true } || string.IsNullOrEmpty(key))
        {
            return (await context.WebSockets.AcceptWebSocketAsync(accept).ConfigureAwait(false), null);
        }
        var headers = context.Response.Headers;
        headers.Connection = "Upgrade";
        headers.Upgrade = "websocket";
        headers.SecWebSocketAccept = AcceptKey(key);
        if (accept.SubProtocol is { } subProtocol)
        {
            headers.SecWebSocketProtocol = subProtocol;
        }
        var stream = await upgrade.UpgradeAsync().ConfigureAwait(false);
        context.Features.Get<Microsoft.AspNetCore.Http.Timeouts.IHttpRequestTimeoutFeature>()?.DisableTimeout(); // a WebSocket lives long
        var output = new WebSocketOutput(stream, context.Abort);
        var socket = WebSocket.CreateFromStream(output, new WebSocketCreationOptions
        {
            IsServer = true,
            SubProtocol = accept.SubProtocol,
            KeepAliveInterval = accept.KeepAliveInterval ?? TimeSpan.Zero,
            KeepAliveTimeout = accept.KeepAliveTimeout ?? Timeout.InfiniteTimeSpan,
        });
        output.Socket = socket;
        return (socket, output);
    }

    /// <summary>Base64 of the SHA-1 of the client's key and the protocol's GUID.</summary>
    internal static string AcceptKey(string key)
    {
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(Encoding.ASCII.GetBytes(key.Trim() + AcceptGuid), hash);
        return Convert.ToBase64String(hash);
    }
}
