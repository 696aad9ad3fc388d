using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Herald.Protocol;

namespace Herald.Client;

public sealed partial class HeraldClient
{
    private async Task OpenAsync(CancellationToken cancellation)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(ProtocolNames.SubprotocolV1);
        await socket.ConnectAsync(_options.Url, cancellation).ConfigureAwait(false);
        _socket = socket;
        ClientId = null;
        var receiving = Task.Run(() => ReceiveLoopAsync(socket));
        var parameters = new JsonObject();
        if (_options.GetToken is not null && await _options.GetToken(cancellation).ConfigureAwait(false) is { } token)
        {
            parameters["token"] = token;
        }
        if (_options.Attributes is { Count: > 0 } attributes)
        {
            parameters["attrs"] = new JsonObject([.. attributes.Select(a => KeyValuePair.Create(a.Key, (JsonNode?)a.Value))]);
        }
        var result = await CallAsync(ProtocolNames.Methods.Connect, parameters, cancellation, requireConnected: false).ConfigureAwait(false);
        ClientId = result.GetProperty("client").GetString();
        UserId = result.TryGetProperty("user", out var user) ? user.GetString() : "";
        if (result.TryGetProperty("inbox", out var inbox))
        {
            foreach (var entry in inbox.GetProperty("publications").EnumerateArray())
            {
                DeliverInbox(entry.GetProperty("offset").GetUInt64(), entry.GetProperty("data"));
            }
        }
        if (result.TryGetProperty("expires_in", out var expiresIn))
        {
            ScheduleRefresh(TimeSpan.FromSeconds(expiresIn.GetInt64()));
        }
        // Resubscribe what the app subscribed to, recovering from the last offset seen on each channel.
        foreach (var (channel, mark) in _subscriptions.ToArray())
        {
            var since = new JsonObject { ["offset"] = mark.Offset, ["epoch"] = mark.Epoch };
            var reply = await CallAsync(ProtocolNames.Methods.Subscribe, new JsonObject { ["channel"] = channel, ["since"] = mark.Epoch.Length == 0 ? null : since }, cancellation).ConfigureAwait(false);
            if (reply.TryGetProperty("recovered", out var recovered) && !recovered.GetBoolean())
            {
                RecoveryFailed?.Invoke(this, channel);
            }
            Track(channel, reply);
        }
        _ = receiving;
    }

    /// <summary>Reconnects with exponential backoff and jitter whenever the connection ends, until disposed or told not to.</summary>
    private async Task StayConnectedAsync()
    {
        var delay = _options.MinReconnectDelay;
        while (!_disposed.IsCancellationRequested)
        {
            var code = await WaitForCloseAsync().ConfigureAwait(false);
            Disconnected?.Invoke(this, code);
            if (_disposed.IsCancellationRequested || !DisconnectCodes.ShouldReconnect(code))
            {
                return;
            }
            while (!_disposed.IsCancellationRequested)
            {
                var jittered = delay * (0.5 + Random.Shared.NextDouble());
                try
                {
                    await Task.Delay(jittered, _disposed.Token).ConfigureAwait(false);
                    await OpenAsync(_disposed.Token).ConfigureAwait(false);
                    Reconnects++;
                    delay = _options.MinReconnectDelay;
                    break;
                }
                catch (Exception ex) when (ex is WebSocketException or HeraldException or TimeoutException or IOException or OperationCanceledException)
                {
                    _socket?.Abort();
                    delay = TimeSpan.FromTicks(Math.Min(_options.MaxReconnectDelay.Ticks, delay.Ticks * 2));
                }
            }
        }
    }

    private async Task<int> WaitForCloseAsync()
    {
        var socket = _socket!;
        while (socket.State is WebSocketState.Open or WebSocketState.Connecting or WebSocketState.CloseSent)
        {
            try
            {
                await Task.Delay(50, _disposed.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return 1000;
            }
        }
        return (int?)socket.CloseStatus ?? 1006;
    }

    private void ScheduleRefresh(TimeSpan expiresIn)
    {
        _refreshTimer?.Dispose();
        if (_options.GetToken is null)
        {
            return;
        }
        // Refresh at 80% of the token's life, so the connection never reaches 4005.
        _refreshTimer = new Timer(_ => _ = RefreshAsync(), null, expiresIn * 0.8, Timeout.InfiniteTimeSpan);
    }

    private async Task RefreshAsync()
    {
        try
        {
            var token = await _options.GetToken!(_disposed.Token).ConfigureAwait(false);
            var result = await CallAsync(ProtocolNames.Methods.Refresh, new JsonObject { ["token"] = token }, _disposed.Token).ConfigureAwait(false);
            if (result.TryGetProperty("expires_in", out var expiresIn))
            {
                ScheduleRefresh(TimeSpan.FromSeconds(expiresIn.GetInt64()));
            }
        }
        catch (Exception ex) when (ex is HeraldException or WebSocketException or TimeoutException or OperationCanceledException or InvalidOperationException)
        {
            // The server closes with 4005 at expiry; the reconnect loop then connects with a new token.
        }
    }

    private async Task<JsonElement> CallAsync(string method, JsonObject parameters, CancellationToken cancellation, bool requireConnected = true)
    {
        var socket = _socket ?? throw new InvalidOperationException("call ConnectAsync first");
        if (requireConnected && ClientId is null && method != ProtocolNames.Methods.Connect)
        {
            throw new InvalidOperationException("not connected");
        }
        var id = (ulong)Interlocked.Increment(ref _nextId);
        var reply = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        try
        {
            await SendAsync(socket, new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters }.ToJsonString(), cancellation).ConfigureAwait(false);
            var message = await reply.Task.WaitAsync(_options.CommandTimeout, cancellation).ConfigureAwait(false);
            if (message.TryGetProperty("error", out var error))
            {
                throw new HeraldException(error.GetProperty("code").GetInt32(), error.GetProperty("message").GetString() ?? "");
            }
            return message.GetProperty("result");
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private async Task SendAsync(ClientWebSocket socket, string text, CancellationToken cancellation)
    {
        await _sendLock.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cancellation).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReceiveLoopAsync(ClientWebSocket socket)
    {
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (true)
            {
                message.SetLength(0);
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        if (socket.State == WebSocketState.CloseReceived)
                        {
                            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None).ConfigureAwait(false);
                        }
                        return;
                    }
                    message.Write(buffer, 0, result.Count);
                } while (!result.EndOfMessage);
                using var document = JsonDocument.Parse(message.ToArray());
                await HandleAsync(socket, document.RootElement).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or JsonException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            foreach (var pending in _pending.Values)
            {
                pending.TrySetException(new WebSocketException("the connection closed"));
            }
        }
    }

    private async Task HandleAsync(ClientWebSocket socket, JsonElement message)
    {
        if (message.TryGetProperty("id", out var id))
        {
            if (_pending.TryGetValue(id.GetUInt64(), out var reply))
            {
                reply.TrySetResult(message.Clone());
            }
            return;
        }
        if (!message.TryGetProperty("push", out var push))
        {
            return;
        }
        switch (push.GetString())
        {
            case ProtocolNames.Pushes.Ping:
                await SendAsync(socket, """{"method":"pong"}""", CancellationToken.None).ConfigureAwait(false);
                break;
            case ProtocolNames.Pushes.Publication:
                var channel = message.TryGetProperty("channel", out var c) ? c.GetString() : null;
                var offset = message.TryGetProperty("offset", out var o) ? o.GetUInt64() : 0;
                if (channel is not null && offset != 0 && _subscriptions.TryGetValue(channel, out var mark))
                {
                    if (offset <= mark.Offset)
                    {
                        return; // already seen (replayed in a subscribe reply)
                    }
                    _subscriptions[channel] = mark with { Offset = offset };
                }
                _publications.Writer.TryWrite(new Publication(channel, offset, message.GetProperty("data").Clone()));
                break;
            case ProtocolNames.Pushes.Inbox:
                DeliverInbox(message.GetProperty("offset").GetUInt64(), message.GetProperty("data"));
                break;
            case ProtocolNames.Pushes.Subscribe:
                _subscriptions.TryAdd(message.GetProperty("channel").GetString()!, new StreamMark(0, ""));
                break;
            case ProtocolNames.Pushes.Unsubscribe:
                _subscriptions.TryRemove(message.GetProperty("channel").GetString()!, out _);
                break;
        }
    }

    private void DeliverInbox(ulong offset, JsonElement data)
    {
        if (offset <= _inboxOffset)
        {
            return;
        }
        _inboxOffset = offset;
        _inbox.Writer.TryWrite(new InboxEntry(offset, data.Clone()));
    }
}
