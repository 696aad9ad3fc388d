using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text;
using Herald.Core.Connections;

namespace Herald.Server.Transports;

/// <summary>
/// A connection's wire over an ASP.NET Core WebSocket. With an <see cref="WebSocketOutput"/> (every HTTP/1.1 upgrade)
/// data frames are written by Herald, a burst of queued frames in one write; without one they go through
/// <see cref="WebSocket.SendAsync(ReadOnlyMemory{byte}, WebSocketMessageType, bool, CancellationToken)"/>.
/// </summary>
internal sealed class WebSocketTransport(WebSocket socket, WebSocketOutput? output = null) : IConnectionTransport
{
    public ValueTask SendAsync(ReadOnlyMemory<byte> utf8Text)
    {
        if (output is null)
        {
            return socket.SendAsync(utf8Text, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
        ThrowIfClosed();
        return Thread.CurrentThread.IsThreadPoolThread ? output.WriteTextFrameAsync(utf8Text) : SendFromThreadPoolAsync(output, utf8Text);
    }

    /// <summary>
    /// A publish that arrives by UDP is fanned out on the ingress thread: writing each recipient's frame there would
    /// keep that one thread busy with every write of a 10,000-recipient broadcast. It hands the write to the thread
    /// pool instead, so the fan-out loop only queues, the writes run on every core, and the frames that queue up
    /// meanwhile go out together.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask SendFromThreadPoolAsync(WebSocketOutput output, ReadOnlyMemory<byte> utf8Text)
    {
        await Task.Yield();
        await output.WriteTextFrameAsync(utf8Text).ConfigureAwait(false);
    }

    public async ValueTask SendManyAsync(ReadOnlyMemory<byte[]> utf8Texts)
    {
        if (output is null)
        {
            for (var i = 0; i < utf8Texts.Length; i++)
            {
                await socket.SendAsync(utf8Texts.Span[i], WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
            }
            return;
        }
        ThrowIfClosed();
        await output.WriteTextFramesAsync(utf8Texts).ConfigureAwait(false);
    }

    public async ValueTask CloseAsync(int code, string reason)
    {
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            await socket.CloseOutputAsync((WebSocketCloseStatus)code, Lean.SocketWebSocket.Truncate(reason), CancellationToken.None).ConfigureAwait(false);
        }
    }

    public void Abort() => socket.Abort();

    /// <summary>As <c>WebSocket.SendAsync</c> would: no data frame after the close frame went out, or on an aborted socket.</summary>
    private void ThrowIfClosed()
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            throw new WebSocketException(WebSocketError.InvalidState, $"the WebSocket is {socket.State}");
        }
    }
}
