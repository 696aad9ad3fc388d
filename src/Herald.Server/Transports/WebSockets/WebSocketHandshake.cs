using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Herald.Server.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Herald.Server.Transports.WebSockets;

/// <summary>
/// The server's side of the opening handshake (RFC 6455 4.2.2), answered the same way on both ways in: as bytes on the
/// bare socket (<see cref="SwitchingProtocols"/>) or through Kestrel's upgrade (<see cref="UpgradeAsync"/>), without
/// compression, with the <c>herald.v1</c> subprotocol for native clients and none for plain ones.
/// </summary>
internal static class WebSocketHandshake
{
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>
    /// Answers an HTTP/1.1 upgrade Kestrel served with 101 and returns the connection's byte stream; null when the
    /// request cannot be upgraded (an HTTP/2 request: Herald's port serves HTTP/1.1 only, without TLS).
    /// </summary>
    public static async Task<Stream?> UpgradeAsync(HttpContext context, string? subProtocol)
    {
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        string? key = context.Request.Headers.SecWebSocketKey;
        if (upgrade is not { IsUpgradableRequest: true } || string.IsNullOrEmpty(key))
        {
            return null;
        }
        var headers = context.Response.Headers;
        headers.Connection = "Upgrade";
        headers.Upgrade = "websocket";
        headers.SecWebSocketAccept = AcceptKey(key);
        if (subProtocol is not null)
        {
            headers.SecWebSocketProtocol = subProtocol;
        }
        var stream = await upgrade.UpgradeAsync().ConfigureAwait(false);
        context.Features.Get<Microsoft.AspNetCore.Http.Timeouts.IHttpRequestTimeoutFeature>()?.DisableTimeout(); // a WebSocket lives long
        return stream;
    }

    /// <summary>The 101 answer written on the bare socket, as <see cref="UpgradeAsync"/> has Kestrel write it.</summary>
    public static byte[] SwitchingProtocols(string key, string? subProtocol)
    {
        var head = new StringBuilder(160)
            .Append("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: ")
            .Append(AcceptKey(key)).Append("\r\n");
        if (subProtocol is not null)
        {
            head.Append("Sec-WebSocket-Protocol: ").Append(subProtocol).Append("\r\n");
        }
        return Encoding.ASCII.GetBytes(head.Append("\r\n").ToString());
    }

    /// <summary>A refusal written on the bare socket: the same JSON error the HTTP path answers; the connection closes after it.</summary>
    public static byte[] RefusalResponse(WebSocketAdmission.Refusal refusal)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new ErrorBody(new ErrorDetail(refusal.Code, refusal.Message)), ApiJsonContext.Relaxed.ErrorBody);
        var reason = refusal.Status switch { 403 => "Forbidden", 429 => "Too Many Requests", _ => "Bad Request" };
        var head = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {refusal.Status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
        return [.. head, .. body];
    }

    /// <summary>Base64 of the SHA-1 of the client's key and the protocol's GUID.</summary>
    internal static string AcceptKey(string key)
    {
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(Encoding.ASCII.GetBytes(key.Trim() + AcceptGuid), hash);
        return Convert.ToBase64String(hash);
    }
}
