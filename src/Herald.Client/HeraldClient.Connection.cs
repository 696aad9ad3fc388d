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
        // The previous connection's receive loop has ended (its pending replies failed) before a new one starts, so
        // the streams' state belongs to one connection at a time.
        await ((Task)_receiving).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(ProtocolNames.SubprotocolV1);
        try
        {
            await socket.ConnectAsync(_options.Url, cancellation).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        _socket = socket;
        ClientId = null;
        _silence = Timeout.InfiniteTimeSpan;
        _receiving = Task.Run(() => ReceiveLoopAsync(socket));
        try
        {
            await ConnectAndResubscribeAsync(socket, cancellation).ConfigureAwait(false);
        }
        catch
        {
            socket.Abort();
            await ((Task)_receiving).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }
    }

    private async Task ConnectAndResubscribeAsync(ClientWebSocket socket, CancellationToken cancellation)
    {
        var parameters = new JsonObject();
        if (_options.GetToken is not null && await _options.GetToken(cancellation).ConfigureAwait(false) is { } token)
        {
            parameters["token"] = token;
        }
        if (_options.Attributes is { Count: > 0 } attributes)
        {
            parameters["attrs"] = new JsonObject([.. attributes.Select(a => KeyValuePair.Create(a.Key, (JsonNode?)a.Value))]);
        }
        var id = NextId();
        if (PrepareConnect(id) is { } since)
        {
            parameters["since"] = since;
        }
        JsonElement result;
        try
        {
            result = await CallAsync(ProtocolNames.Methods.Connect, parameters, cancellation, requireConnected: false, id: id, socket: socket,
                onReply: message => OnConnectReply(id, message)).ConfigureAwait(false);
        }
        catch
        {
            AbandonConnect(id); // the connection may have ended before connect was even prepared: nothing may wait for it
            throw;
        }
        if (result.TryGetProperty("ping", out var ping) && ping.GetInt32() > 0)
        {
            // The server pings every "ping" seconds: silence for longer than ping + pong means the connection is dead.
            _silence = TimeSpan.FromSeconds(ping.GetInt32() + (result.TryGetProperty("pong", out var pong) ? pong.GetInt32() : 10));
        }
        ClientId = result.GetProperty("client").GetString();
        UserId = result.TryGetProperty("user", out var user) ? user.GetString() : "";
        if (result.TryGetProperty("expires_in", out var expiresIn))
        {
            ScheduleRefresh(TimeSpan.FromSeconds(expiresIn.GetInt64()));
        }
        // Subscribe again to what the app subscribed to, recovering from the last publication received on each channel.
        foreach (var channel in ChannelsToResubscribe())
        {
            try
            {
                await SubscribeCallAsync(channel, null, StreamUse.Resubscribe, cancellation, socket).ConfigureAwait(false);
            }
            catch (HeraldException ex) when (ex.Code != ErrorCodes.StoreUnavailable)
            {
                // Refused for good (a private channel whose token expired, a namespace removed): trying again cannot help.
                ForgetStream(channel);
                ResubscribeFailed?.Invoke(this, new ResubscribeFailure(channel, ex));
            }
        }
    }

    /// <summary>Reconnects with exponential backoff and jitter whenever the connection ends, until disposed or told not to.</summary>
    private async Task StayConnectedAsync()
    {
        var delay = _options.MinReconnectDelay;
        while (!_disposed.IsCancellationRequested)
        {
            var code = await _receiving.ConfigureAwait(false);
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
                catch (Exception) when (!_disposed.IsCancellationRequested)
                {
                    // Any failure to connect is retried: this loop is what keeps the client connected.
                    delay = TimeSpan.FromTicks(Math.Min(_options.MaxReconnectDelay.Ticks, delay.Ticks * 2));
                }
            }
        }
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

    private ulong NextId() => (ulong)Interlocked.Increment(ref _nextId);

    /// <summary>
    /// Sends a command and waits for its reply. <paramref name="onReply"/> runs in the receive loop as the reply is
    /// read, before any frame after it, so state the reply carries is in place before the pushes that follow it.
    /// </summary>
    private async Task<JsonElement> CallAsync(string method, JsonObject parameters, CancellationToken cancellation, bool requireConnected = true,
        ulong id = 0, ClientWebSocket? socket = null, Action<JsonElement>? onReply = null)
    {
        socket ??= _socket ?? throw new InvalidOperationException("call ConnectAsync first");
        if (requireConnected && ClientId is null && method != ProtocolNames.Methods.Connect)
        {
            throw new InvalidOperationException("not connected");
        }
        if (id == 0)
        {
            id = NextId();
        }
        var call = new PendingCall(new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously), onReply);
        _pending[id] = call;
        try
        {
            await SendAsync(socket, new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters }.ToJsonString(), cancellation).ConfigureAwait(false);
            var message = await call.Reply.Task.WaitAsync(_options.CommandTimeout, cancellation).ConfigureAwait(false);
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

    /// <summary>Reads frames until the connection ends; returns the close code (1006 when it ended without a close frame).</summary>
    private async Task<int> ReceiveLoopAsync(ClientWebSocket socket)
    {
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        using var silence = new CancellationTokenSource();
        try
        {
            while (true)
            {
                message.SetLength(0);
                ValueWebSocketReceiveResult result;
                do
                {
                    // Cancelling a receive aborts the socket: a connection silent for longer than ping + pong is dead.
                    silence.CancelAfter(_silence);
                    result = await socket.ReceiveAsync(buffer.AsMemory(), silence.Token).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        if (socket.State == WebSocketState.CloseReceived)
                        {
                            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None).ConfigureAwait(false);
                        }
                        return (int?)socket.CloseStatus ?? 1006;
                    }
                    message.Write(buffer, 0, result.Count);
                } while (!result.EndOfMessage);
                using var document = JsonDocument.Parse(message.ToArray());
                await HandleAsync(socket, document.RootElement).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or JsonException or ObjectDisposedException or OperationCanceledException
            or InvalidOperationException or FormatException or KeyNotFoundException)
        {
            socket.Abort();
            return 1006;
        }
        finally
        {
            OnConnectionEnded();
            foreach (var pending in _pending.Values)
            {
                pending.Reply.TrySetException(new WebSocketException("the connection closed"));
            }
        }
    }

    private async Task HandleAsync(ClientWebSocket socket, JsonElement message)
    {
        if (message.TryGetProperty("id", out var id))
        {
            if (_pending.TryGetValue(id.GetUInt64(), out var call))
            {
                var reply = message.Clone();
                call.OnReply?.Invoke(reply);
                call.Reply.TrySetResult(reply);
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
                OnPublicationPush(message);
                break;
            case ProtocolNames.Pushes.Inbox:
                OnInboxPush(message.GetProperty("offset").GetUInt64(), message.GetProperty("data").Clone(), EventOf(message));
                break;
            case ProtocolNames.Pushes.Subscribe:
                OnServerSubscribed(message.GetProperty("channel").GetString()!);
                break;
            case ProtocolNames.Pushes.Unsubscribe:
                ForgetStream(message.GetProperty("channel").GetString()!);
                break;
        }
    }

    /// <summary>A command waiting for its reply, and what to do in the receive loop when the reply is read.</summary>
    private sealed record PendingCall(TaskCompletionSource<JsonElement> Reply, Action<JsonElement>? OnReply);
}
