using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace Herald.Testing;

/// <summary>
/// A real WebSocket client for tests. A background loop reads every message into a queue; the close status is kept.
/// </summary>
public sealed class WsClient : IAsyncDisposable
{
    private readonly Channel<string> _messages = Channel.CreateUnbounded<string>();
    private readonly Task _receiveLoop;

    private WsClient(ClientWebSocket socket)
    {
        Socket = socket;
        _receiveLoop = Task.Run(ReceiveLoopAsync);
    }

    public ClientWebSocket Socket { get; }

    public WebSocketCloseStatus? CloseStatus => Socket.CloseStatus;

    public string? CloseDescription => Socket.CloseStatusDescription;

    /// <summary>Completes when the server closed the connection (or it broke).</summary>
    public Task Closed => _receiveLoop;

    public static async Task<WsClient> ConnectAsync(Uri uri, string? subprotocol = null, Action<ClientWebSocketOptions>? configure = null)
    {
        var socket = new ClientWebSocket();
        if (subprotocol is not null)
        {
            socket.Options.AddSubProtocol(subprotocol);
        }
        configure?.Invoke(socket.Options);
        await socket.ConnectAsync(uri, CancellationToken.None).DefaultTimeout();
        return new WsClient(socket);
    }

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text);

    public Task SendAsync(byte[] bytes, WebSocketMessageType type) =>
        Socket.SendAsync(bytes, type, endOfMessage: true, CancellationToken.None).DefaultTimeout();

    /// <summary>The next message, or a timeout.</summary>
    public async Task<string> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Timeouts.Default);
        try
        {
            return await _messages.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("no message arrived in time");
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException($"the connection closed ({CloseStatus} {CloseDescription}) before a message arrived");
        }
    }

    /// <summary>The next message parsed as JSON.</summary>
    public async Task<JsonElement> ReceiveJsonAsync(TimeSpan? timeout = null)
    {
        var text = await ReceiveAsync(timeout);
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    /// <summary>Skips messages until one satisfies <paramref name="predicate"/>.</summary>
    public async Task<JsonElement> ReceiveJsonUntilAsync(Func<JsonElement, bool> predicate)
    {
        while (true)
        {
            var json = await ReceiveJsonAsync();
            if (predicate(json))
            {
                return json;
            }
        }
    }

    /// <summary>True when no message is waiting right now.</summary>
    public bool NothingReceived => !_messages.Reader.TryPeek(out _);

    /// <summary>Waits for the server to close the connection, returning the close code it sent.</summary>
    public async Task<int?> WaitForCloseAsync(TimeSpan? timeout = null)
    {
        await _receiveLoop.WaitAsync(timeout ?? Timeouts.Default);
        return (int?)Socket.CloseStatus;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (Socket.State == WebSocketState.Open)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
        Socket.Abort();
        await _receiveLoop.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Socket.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[1024 * 1024];
        try
        {
            while (true)
            {
                var count = 0;
                WebSocketReceiveResult result;
                do
                {
                    result = await Socket.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None) is var r
                        ? new WebSocketReceiveResult(r.Count, r.MessageType, r.EndOfMessage) : null!;
                    count += result.Count;
                } while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    if (Socket.State == WebSocketState.CloseReceived)
                    {
                        await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
                    }
                    return;
                }
                _messages.Writer.TryWrite(Encoding.UTF8.GetString(buffer, 0, count));
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            _messages.Writer.TryComplete();
        }
    }
}
