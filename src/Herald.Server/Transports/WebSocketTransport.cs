using System.Net.WebSockets;
using System.Text;
using Herald.Core.Connections;

namespace Herald.Server.Transports;

/// <summary>A connection's wire over an ASP.NET Core WebSocket.</summary>
internal sealed class WebSocketTransport(WebSocket socket) : IConnectionTransport
{
    private const int MaxCloseReasonBytes = 123; // RFC 6455 5.5: control frame payload of 125 bytes, 2 for the code

    public ValueTask SendAsync(ReadOnlyMemory<byte> utf8Text) =>
        socket.SendAsync(utf8Text, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

    public async ValueTask CloseAsync(int code, string reason)
    {
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            await socket.CloseOutputAsync((WebSocketCloseStatus)code, Truncate(reason), CancellationToken.None).ConfigureAwait(false);
        }
    }

    public void Abort() => socket.Abort();

    private static string Truncate(string reason)
    {
        if (Encoding.UTF8.GetByteCount(reason) <= MaxCloseReasonBytes)
        {
            return reason;
        }
        var length = Math.Min(reason.Length, MaxCloseReasonBytes);
        while (Encoding.UTF8.GetByteCount(reason.AsSpan(0, length)) > MaxCloseReasonBytes)
        {
            length--;
        }
        return reason[..length];
    }
}
