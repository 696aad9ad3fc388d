using System.Text.Json;
using Herald.Core.Attributes;
using Herald.Core.Auth;
using Herald.Core.Channels;
using Herald.Core.Connections;
using Herald.Core.Engine;
using Herald.Core.Routing;
using Herald.Protocol;

namespace Herald.Core;

public sealed partial class Node
{
    private static readonly byte[] PlainPong = "pong"u8.ToArray();

    // Clients cannot fill the log: one line per kind of mistake, and per kind of fault, every 10 s.
    private readonly LogThrottle _faultLog = LogThrottle.Default();
    private readonly LogThrottle _mistakeLog = LogThrottle.Default();

    /// <summary>
    /// Handles one complete text message. Plain clients: a JSON object replaces the attributes, the text <c>ping</c>
    /// is answered with <c>pong</c>. Native clients: one command. Bad input gets an error reply and never affects
    /// other connections.
    /// </summary>
    public async ValueTask OnTextMessageAsync(Connection connection, ReadOnlyMemory<byte> utf8)
    {
        var now = NowTicks;
        connection.LastReceivedTicks = now;
        if (connection.State >= ConnectionState.Closing)
        {
            return;
        }
        if (!connection.TryTakeRateToken(Options.ClientMessageRate, now))
        {
            SendError(connection, PeekId(connection, utf8), ErrorCodes.LimitExceeded,
                $"rate limit: more than {Options.ClientMessageRate} messages per second (setting client_message_rate)");
            return;
        }
        // The one check of the message's text: what passes is valid UTF-8 without lone surrogate escapes, so every
        // string read from it below and every byte passed on (data, attributes, channel names) is valid text.
        if (!JsonText.TryValidate(utf8.Span, out var textError))
        {
            ClientMistake(connection, ErrorCodes.InvalidText, textError);
            SendError(connection, PeekId(connection, utf8), ErrorCodes.InvalidText, textError);
            return;
        }
        try
        {
            if (connection.Kind == ConnectionKind.Plain)
            {
                HandlePlainMessage(connection, utf8.Span);
            }
            else
            {
                await HandleCommandAsync(connection, utf8).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // A server fault, not the client's: its stack trace is logged, once per cause and interval.
            if (_faultLog.ShouldLog(ex.GetType().FullName + " at " + ex.TargetSite?.Name, out var suppressed))
            {
                NodeLog.MessageHandlerFailed(_logger, connection.Id, LogThrottle.Note(suppressed), ex);
            }
            SendError(connection, PeekId(connection, utf8), ErrorCodes.Internal, "internal error");
        }
    }

    /// <summary>Logs a client's bad message: a debug line per kind of mistake (the error code) and interval.</summary>
    private void ClientMistake(Connection connection, int code, string error)
    {
        if (_mistakeLog.ShouldLog(code.ToString(System.Globalization.CultureInfo.InvariantCulture), out var suppressed))
        {
            NodeLog.BadClientMessage(_logger, connection.Id, error, LogThrottle.Note(suppressed));
        }
    }

    private static ulong PeekId(Connection connection, ReadOnlyMemory<byte> utf8)
    {
        if (connection.Kind == ConnectionKind.Plain)
        {
            return 0;
        }
        return ClientCommandParser.PeekId(utf8.Span);
    }

    /// <summary>
    /// The transport received something that is not a message (a pong, a ping): the connection is alive, which is
    /// what the keep-alive sweep checks for plain clients (<see cref="IKeepAliveTransport"/>).
    /// </summary>
    public void OnActivity(Connection connection) => connection.LastReceivedTicks = NowTicks;

    /// <summary>Binary frames are not part of either protocol: the client gets an error and stays connected.</summary>
    public void OnBinaryMessage(Connection connection)
    {
        connection.LastReceivedTicks = NowTicks;
        ClientMistake(connection, ErrorCodes.BadRequest, "binary frame");
        SendError(connection, 0, ErrorCodes.BadRequest, "binary frames are not supported: send JSON as a text frame");
    }

    /// <summary>A message over <see cref="NodeOptions.MaxMessageSize"/>: the connection is closed with 4501.</summary>
    public void OnMessageTooLarge(Connection connection)
    {
        ClientMistake(connection, ErrorCodes.MessageTooLarge, "message too large");
        connection.Disconnect(DisconnectCodes.MessageTooLarge, $"message larger than {Options.MaxMessageSize} bytes (setting max_message_size)");
    }

    private void HandlePlainMessage(Connection connection, ReadOnlySpan<byte> utf8)
    {
        var trimmed = utf8.Trim(" \t\r\n"u8);
        if (trimmed.SequenceEqual("ping"u8))
        {
            connection.TrySend(PlainPong);
            return;
        }
        if (!AttributeJson.TryParseAttributes(trimmed, Options.MaxAttributes, out var attributes, out var code, out var error))
        {
            ClientMistake(connection, code, error);
            SendError(connection, 0, code, error);
            return;
        }
        if (!ClientAttributesAllowed(connection, 0))
        {
            return;
        }
        _index.Set(connection, Merge(attributes, connection.TokenAttributes));
    }

    private async ValueTask HandleCommandAsync(Connection connection, ReadOnlyMemory<byte> utf8)
    {
        if (!ClientCommandParser.TryParse(utf8, out var command, out var parseError))
        {
            ClientMistake(connection, ErrorCodes.BadRequest, parseError!);
            SendError(connection, command.Id, ErrorCodes.BadRequest, parseError!);
            return;
        }
        if (command.Method == ProtocolNames.Methods.Pong)
        {
            return; // any message counts as activity; nothing to answer
        }
        if (connection.State == ConnectionState.AwaitingConnect && command.Method != ProtocolNames.Methods.Connect)
        {
            SendError(connection, command.Id, ErrorCodes.NotConnected, "send the connect command first");
            return;
        }
        switch (command.Method)
        {
            case ProtocolNames.Methods.Connect:
                await HandleConnectAsync(connection, command).ConfigureAwait(false);
                break;
            case ProtocolNames.Methods.Subscribe:
                await HandleSubscribeAsync(connection, command).ConfigureAwait(false);
                break;
            case ProtocolNames.Methods.Refresh:
                await HandleRefreshAsync(connection, command).ConfigureAwait(false);
                break;
            case ProtocolNames.Methods.Unsubscribe:
                await HandleUnsubscribeAsync(connection, command).ConfigureAwait(false);
                break;
            case ProtocolNames.Methods.Publish:
                await HandleClientPublishAsync(connection, command).ConfigureAwait(false);
                break;
            case ProtocolNames.Methods.Attrs:
                HandleAttrs(connection, command);
                break;
            case ProtocolNames.Methods.Presence:
            case ProtocolNames.Methods.PresenceStats:
                await HandlePresenceAsync(connection, command).ConfigureAwait(false);
                break;
            case ProtocolNames.Methods.InboxAck:
                await HandleInboxAckAsync(connection, command).ConfigureAwait(false);
                break;
            case ProtocolNames.Methods.Ping:
                Reply(connection, command.Id);
                break;
            default:
                SendError(connection, command.Id, ErrorCodes.UnknownMethod,
                    $"unknown method \"{command.Method}\"; methods are connect, refresh, subscribe, unsubscribe, publish, attrs, presence, presence_stats, inbox_ack, ping, pong");
                break;
        }
    }

    private async ValueTask HandleConnectAsync(Connection connection, ClientCommand command)
    {
        if (connection.State != ConnectionState.AwaitingConnect)
        {
            SendError(connection, command.Id, ErrorCodes.AlreadyConnected, "connect was already sent on this connection");
            return;
        }
        var attributes = AttributeSet.Empty;
        if (JsonObjectFields.TryGetRaw(command.Params, "attrs"u8, out var raw, out var type) && type != JsonTokenType.Null)
        {
            if (!AttributeJson.TryParseAttributes(raw.Span, Options.MaxAttributes, out attributes, out var code, out var error))
            {
                SendError(connection, command.Id, code, error);
                return;
            }
            if (attributes.Count > 0 && !ClientAttributesAllowed(connection, command.Id))
            {
                return;
            }
        }
        JsonObjectFields.TryGetString(command.Params, "token"u8, out var token);
        TokenClaims? claims = null;
        if (!string.IsNullOrEmpty(token))
        {
            var result = await VerifyAsync(token, CancellationToken.None).ConfigureAwait(false);
            if (!result.IsValid)
            {
                SendError(connection, command.Id, result.Failure == TokenFailure.Expired ? ErrorCodes.TokenExpired : ErrorCodes.Unauthorized, result.Error);
                Refuse(connection, result);
                return;
            }
            claims = result.Claims;
        }
        else if (Options.RequireToken)
        {
            const string missing = "a token is required: pass it as \"token\" in connect";
            SendError(connection, command.Id, ErrorCodes.Unauthorized, missing);
            Refuse(connection, TokenResult.Refused(TokenFailure.Invalid, missing));
            return;
        }
        if (!TryReadRecoveries(command.Params, out var recover, out var recoverError))
        {
            SendError(connection, command.Id, ErrorCodes.BadRequest, recoverError);
            return;
        }
        // Channels from the token with history, and the user's inbox, are read while their streams are quiet so the reply and
        // the live publications that follow it have no gap and no repeat.
        var user = claims?.UserId ?? "";
        var inboxOn = user.Length > 0 && InboxLimits.Enabled;
        var historyChannels = (claims?.Channels ?? [])
            .Select(c => (Channel: c, Ns: Channels.ChannelName.IsValid(c, out _) ? _policy.Resolve(c, out _) : null))
            .Where(c => c.Ns is { History.Enabled: true })
            .ToList();
        var pipes = historyChannels.Select(c => (_channelPipes, c.Channel));
        if (inboxOn)
        {
            pipes = pipes.Append((_userPipes, user));
        }
        using (await QuiesceAsync(pipes).ConfigureAwait(false))
        {
            if (!TryAdmit(connection, claims, attributes, out var limitError))
            {
                SendError(connection, command.Id, ErrorCodes.LimitExceeded, limitError);
                NodeLog.AuthRefused(_logger, connection.Id, connection.RemoteAddress, limitError);
                connection.Disconnect(DisconnectCodes.ConnectionLimit, limitError);
                return;
            }
            var subscriptions = new List<(string Channel, SubscriptionState? State)>();
            InboxPage? inbox = null;
            try
            {
                foreach (var channel in connection.Channels)
                {
                    await TopicReadyAsync(Engine.BrokerTopic.Channel(channel)).ConfigureAwait(false);
                }
                if (inboxOn)
                {
                    await TopicReadyAsync(Engine.BrokerTopic.User(user)).ConfigureAwait(false);
                }
                foreach (var channel in connection.Channels)
                {
                    var ns = historyChannels.FirstOrDefault(c => c.Channel == channel).Ns;
                    var state = ns is null ? null
                        : await ReadSubscriptionStateAsync(channel, ns, recover is not null && recover.TryGetValue(channel, out var from) ? from : null).ConfigureAwait(false);
                    if (state is not null)
                    {
                        MarkReplayed(connection, channel, state);
                    }
                    subscriptions.Add((channel, state));
                }
                if (inboxOn)
                {
                    inbox = await _inbox.ReadAsync(user, null, Options.InboxSize).ConfigureAwait(false);
                    if (_broker is not null)
                    {
                        connection.MarkReplayed("", "", inbox.Offset);
                    }
                }
            }
            catch (StoreUnavailableException ex)
            {
                StoreFailed(ex);
                SendError(connection, command.Id, ErrorCodes.StoreUnavailable, "history is unavailable, connect again later: " + ex.Message);
                connection.Disconnect(DisconnectCodes.ForceReconnect, "storage unavailable");
                return;
            }
            await connection.PresenceStoredAsync().ConfigureAwait(false);
            if (command.HasId)
            {
                connection.TrySend(ServerFrames.Result(command.Id, (connection, Options, ExpiresIn(connection), subscriptions, inbox), static (w, s) =>
                {
                    w.WriteString("client"u8, s.connection.Id);
                    w.WriteString("version"u8, ServerInfo.Version);
                    w.WriteNumber("ping"u8, (int)s.Options.PingInterval.TotalSeconds);
                    w.WriteNumber("pong"u8, (int)s.Options.PongTimeout.TotalSeconds);
                    if (s.connection.UserId.Length > 0)
                    {
                        w.WriteString("user"u8, s.connection.UserId);
                    }
                    if (s.Item3 is { } expiresIn)
                    {
                        w.WriteNumber("expires_in"u8, expiresIn);
                    }
                    if (s.subscriptions.Count > 0)
                    {
                        w.WriteStartObject("subs"u8);
                        foreach (var (channel, state) in s.subscriptions)
                        {
                            w.WriteStartObject(channel);
                            if (state is not null)
                            {
                                WriteSubscriptionState(w, state);
                            }
                            w.WriteEndObject();
                        }
                        w.WriteEndObject();
                    }
                    if (s.inbox is not null)
                    {
                        WriteInbox(w, s.inbox);
                    }
                }));
            }
        }
    }

    /// <summary>Reads connect's <c>since</c>: <c>{"channel":{"offset":N,"epoch":"E"},...}</c> for channels from the token.</summary>
    private static bool TryReadRecoveries(ReadOnlyMemory<byte> parameters, out Dictionary<string, StreamPosition>? recover, out string error)
    {
        recover = null;
        error = "";
        if (!JsonObjectFields.TryGetRaw(parameters, "since"u8, out var raw, out var type) || type == JsonTokenType.Null)
        {
            return true;
        }
        error = "connect's \"since\" must map channels to {\"offset\":N,\"epoch\":\"E\"}";
        if (type != JsonTokenType.StartObject)
        {
            return false;
        }
        using var document = JsonDocument.Parse(raw);
        recover = new Dictionary<string, StreamPosition>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (!TryReadPosition(System.Text.Encoding.UTF8.GetBytes(property.Value.GetRawText()), out var position, out _) || position is null)
            {
                return false;
            }
            recover[property.Name] = position.Value;
        }
        error = "";
        return true;
    }

    /// <summary>Seconds until the connection's token expires, or null when it does not.</summary>
    private long? ExpiresIn(Connection connection) =>
        connection.ExpiresAtTicks == 0 ? null : Math.Max(0, (connection.ExpiresAtTicks - NowTicks) / TimeSpan.TicksPerSecond);

    private async ValueTask HandleRefreshAsync(Connection connection, ClientCommand command)
    {
        JsonObjectFields.TryGetString(command.Params, "token"u8, out var token);
        if (string.IsNullOrEmpty(token))
        {
            SendError(connection, command.Id, ErrorCodes.BadRequest, "refresh needs \"token\": the new token");
            return;
        }
        var result = await VerifyAsync(token, CancellationToken.None).ConfigureAwait(false);
        if (!result.IsValid)
        {
            SendError(connection, command.Id, result.Failure == TokenFailure.Expired ? ErrorCodes.TokenExpired : ErrorCodes.Unauthorized, result.Error);
            return;
        }
        if (!string.Equals(result.Claims!.UserId, connection.UserId, StringComparison.Ordinal))
        {
            SendError(connection, command.Id, ErrorCodes.Unauthorized,
                $"the new token is for user '{result.Claims.UserId}', this connection is user '{connection.UserId}': connect again to change user");
            return;
        }
        connection.ExpiresAtTicks = ExpiryTicks(result.Claims);
        if (Options.AttributesFrom == AttributeSource.Token && result.Claims.Attributes is not null)
        {
            _index.Set(connection, result.Claims.Attributes);
        }
        connection.TrySend(ServerFrames.Result(command.Id, ExpiresIn(connection), static (w, expiresIn) =>
        {
            if (expiresIn is { } seconds)
            {
                w.WriteNumber("expires_in"u8, seconds);
            }
        }));
    }

    private async ValueTask HandlePresenceAsync(Connection connection, ClientCommand command)
    {
        if (!TryGetChannel(connection, command, out var channel))
        {
            return;
        }
        if (!connection.HasChannel(channel))
        {
            SendError(connection, command.Id, ErrorCodes.PermissionDenied, $"permission denied for channel \"{channel}\": subscribe to it to see its presence");
            return;
        }
        if (!_policy.ResolveKnown(channel).Presence)
        {
            SendError(connection, command.Id, ErrorCodes.BadRequest, $"channel \"{channel}\" keeps no presence (namespace option presence)");
            return;
        }
        if (command.Method == ProtocolNames.Methods.PresenceStats)
        {
            var stats = await PresenceStatsAsync(channel).ConfigureAwait(false);
            connection.TrySend(ServerFrames.Result(command.Id, stats, static (w, s) =>
            {
                w.WriteNumber("connections"u8, s.Connections);
                w.WriteNumber("users"u8, s.Users);
            }));
            return;
        }
        JsonObjectFields.TryGetString(command.Params, "cursor"u8, out var cursor);
        var limit = JsonObjectFields.TryGetRaw(command.Params, "limit"u8, out var raw, out var type) && type == JsonTokenType.Number && int.TryParse(raw.Span, out var l) ? l : 100;
        var page = await PresenceAsync(channel, cursor, limit).ConfigureAwait(false);
        connection.TrySend(ServerFrames.Result(command.Id, page, static (w, p) => WritePresencePage(w, p)));
    }

    /// <summary>Writes <c>"members":[{"client","user","info"}...],"cursor":...</c>.</summary>
    public static void WritePresencePage(Utf8JsonWriter w, PresencePage page)
    {
        w.WriteStartArray("members"u8);
        foreach (var member in page.Members)
        {
            w.WriteStartObject();
            w.WriteString("client"u8, member.ClientId);
            w.WriteString("user"u8, member.UserId);
            if (member.Info is not null)
            {
                w.WritePropertyName("info"u8);
                w.WriteRawValue(member.Info, skipInputValidation: true);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (page.NextCursor is not null)
        {
            w.WriteString("cursor"u8, page.NextCursor);
        }
    }

    private bool ClientAttributesAllowed(Connection connection, ulong id)
    {
        if (Options.AttributesFrom != AttributeSource.Token)
        {
            return true;
        }
        SendError(connection, id, ErrorCodes.PermissionDenied,
            "this server takes attributes only from the token's attrs claim (setting attributes_from=token); do not send attributes");
        return false;
    }

    private async ValueTask HandleSubscribeAsync(Connection connection, ClientCommand command)
    {
        if (!TryGetNamespacedChannel(connection, command, out var channel, out var ns))
        {
            return;
        }
        var userAllowed = ChannelPolicy.UserAllowed(ns, channel, connection.UserId);
        if (userAllowed == false)
        {
            SendError(connection, command.Id, ErrorCodes.PermissionDenied,
                $"permission denied for channel \"{channel}\": it is limited to the users after '#'");
            return;
        }
        if (userAllowed is null && !ns.AnonymousSubscribe && connection.UserId.Length == 0)
        {
            SendError(connection, command.Id, ErrorCodes.PermissionDenied,
                $"permission denied for channel \"{channel}\": anonymous connections may not subscribe (namespace option anonymous_subscribe)");
            return;
        }
        if (userAllowed is null && ns.Private)
        {
            JsonObjectFields.TryGetString(command.Params, "token"u8, out var token);
            if (string.IsNullOrEmpty(token))
            {
                SendError(connection, command.Id, ErrorCodes.PermissionDenied,
                    $"permission denied for channel \"{channel}\": it is private, pass a subscription token as \"token\"");
                return;
            }
            var result = await VerifyAsync(token, CancellationToken.None).ConfigureAwait(false);
            if (!result.IsValid)
            {
                SendError(connection, command.Id, result.Failure == TokenFailure.Expired ? ErrorCodes.TokenExpired : ErrorCodes.Unauthorized,
                    "subscription token: " + result.Error);
                return;
            }
            if (!string.Equals(result.Claims!.Channel, channel, StringComparison.Ordinal)
                || !string.Equals(result.Claims.UserId, connection.UserId, StringComparison.Ordinal))
            {
                SendError(connection, command.Id, ErrorCodes.PermissionDenied,
                    $"permission denied for channel \"{channel}\": the subscription token is for channel \"{result.Claims.Channel}\" and user '{result.Claims.UserId}'");
                return;
            }
        }
        else if (userAllowed is null && !ns.AnonymousSubscribe && connection.UserId.Length == 0)
        {
            SendError(connection, command.Id, ErrorCodes.PermissionDenied,
                $"permission denied for channel \"{channel}\": anonymous connections may not subscribe (namespace option anonymous_subscribe)");
            return;
        }
        if (connection.ChannelCount >= Options.MaxChannelsPerConnection && !connection.HasChannel(channel))
        {
            SendError(connection, command.Id, ErrorCodes.LimitExceeded,
                $"a connection may subscribe to at most {Options.MaxChannelsPerConnection} channels (setting max_channels_per_connection)");
            return;
        }
        if (!TryReadSince(command.Params, out var since, out var sinceError))
        {
            SendError(connection, command.Id, ErrorCodes.BadRequest, sinceError);
            return;
        }
        if (!ns.History.Enabled)
        {
            AddSubscription(connection, channel);
            if (await TopicJoinedAsync(connection, command, channel).ConfigureAwait(false))
            {
                await connection.PresenceStoredAsync().ConfigureAwait(false);
                Reply(connection, command.Id);
            }
            return;
        }
        // While the channel's stream is quiet no publish is stored or delivered: the reply (with what was missed) and then the
        // live publications follow each other without a gap or a repeat.
        var pipe = await _channelPipes.EnterAsync(channel, quiesce: true).ConfigureAwait(false);
        try
        {
            AddSubscription(connection, channel);
            if (!await TopicJoinedAsync(connection, command, channel).ConfigureAwait(false))
            {
                return;
            }
            SubscriptionState state;
            try
            {
                state = await ReadSubscriptionStateAsync(channel, ns, since).ConfigureAwait(false);
                MarkReplayed(connection, channel, state);
            }
            catch (StoreUnavailableException ex)
            {
                RemoveSubscription(connection, channel);
                StoreFailed(ex);
                SendError(connection, command.Id, ErrorCodes.StoreUnavailable, "history is unavailable, try again: " + ex.Message);
                return;
            }
            await connection.PresenceStoredAsync().ConfigureAwait(false);
            if (command.HasId)
            {
                connection.TrySend(ServerFrames.Result(command.Id, state, static (w, s) => WriteSubscriptionState(w, s)));
            }
        }
        finally
        {
            pipe.Gate.Release();
        }
    }

    /// <summary>
    /// In a cluster, waits until this node receives the channel's topic, so nothing published after the reply is missed.
    /// False (the subscription undone, the error sent) when the broker is unreachable.
    /// </summary>
    private async ValueTask<bool> TopicJoinedAsync(Connection connection, ClientCommand command, string channel)
    {
        try
        {
            await TopicReadyAsync(Engine.BrokerTopic.Channel(channel)).ConfigureAwait(false);
            return true;
        }
        catch (StoreUnavailableException ex)
        {
            RemoveSubscription(connection, channel);
            StoreFailed(ex);
            SendError(connection, command.Id, ErrorCodes.StoreUnavailable, "the cluster's engine is unavailable, subscribe again later: " + ex.Message);
            return false;
        }
    }

    /// <summary>In a cluster, live publications up to what a subscription's reply covered are not sent again.</summary>
    private void MarkReplayed(Connection connection, string channel, SubscriptionState state)
    {
        if (_broker is not null)
        {
            connection.MarkReplayed(channel, state.Position.Epoch, state.Position.Offset);
        }
    }

    /// <summary>Subscribing twice is harmless: the connection stays subscribed once. True when newly subscribed.</summary>
    private bool AddSubscription(Connection connection, string channel)
    {
        if (!connection.AddChannel(channel))
        {
            return false;
        }
        _channels.Add(channel, connection);
        if (connection.State >= ConnectionState.Closing)
        {
            _channels.Remove(channel, connection); // closed meanwhile: do not leave it behind
            return false;
        }
        PresenceJoined(connection, channel);
        if (connection.State == ConnectionState.Closed)
        {
            PresenceLeft(connection, channel); // closed while joining: the leave may have run first (leaving is idempotent)
        }
        return true;
    }

    private bool RemoveSubscription(Connection connection, string channel)
    {
        if (!connection.RemoveChannel(channel))
        {
            return false;
        }
        _channels.Remove(channel, connection);
        connection.ForgetReplayed(channel); // a client churning through names on one connection must not pile up marks
        PresenceLeft(connection, channel);
        return true;
    }

    private async ValueTask HandleUnsubscribeAsync(Connection connection, ClientCommand command)
    {
        if (!TryGetChannel(connection, command, out var channel))
        {
            return;
        }
        // A delivery already started may hold this connection among its recipients: let those finish first, so no
        // publication of the channel follows the reply (a client that subscribes again with since would see it twice).
        var pipe = await _channelPipes.EnterAsync(channel, quiesce: true).ConfigureAwait(false);
        try
        {
            RemoveSubscription(connection, channel);
            Reply(connection, command.Id);
        }
        finally
        {
            pipe.Gate.Release();
        }
    }

    private async ValueTask HandleClientPublishAsync(Connection connection, ClientCommand command)
    {
        if (!TryGetNamespacedChannel(connection, command, out var channel, out var ns))
        {
            return;
        }
        if (!ns.ClientPublish)
        {
            SendError(connection, command.Id, ErrorCodes.PermissionDenied,
                $"permission denied for channel \"{channel}\": clients may not publish here (setting client_publish, or the namespace's client_publish); publish from your backend over UDP or HTTP");
            return;
        }
        // Publishing needs at least the right to subscribe: listed users for '#' channels, a subscription for
        // private ones, a user where anonymous connections may not subscribe.
        var userAllowed = ChannelPolicy.UserAllowed(ns, channel, connection.UserId);
        if (userAllowed == false
            || (userAllowed is null && ns.Private && !connection.HasChannel(channel))
            || (!ns.AnonymousSubscribe && connection.UserId.Length == 0))
        {
            SendError(connection, command.Id, ErrorCodes.PermissionDenied,
                $"permission denied for channel \"{channel}\": publishing needs the right to subscribe (a listed user, a subscription to a private channel, or a user where anonymous connections may not subscribe)");
            return;
        }
        if (!JsonObjectFields.TryGetRaw(command.Params, "data"u8, out var data, out var type))
        {
            SendError(connection, command.Id, ErrorCodes.BadRequest, "publish needs \"data\"");
            return;
        }
        var result = await PublishAsync(new PublishRequest([channel], null, data.ToArray(), type == JsonTokenType.String)).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            SendError(connection, command.Id, result.ErrorCode, result.Error);
            return;
        }
        if (command.HasId)
        {
            connection.TrySend(ServerFrames.Result(command.Id, result.Recipients, static (w, n) =>
            {
                if (n >= 0)
                {
                    w.WriteNumber("recipients"u8, n); // unknown in a cluster: every node delivers
                }
            }));
        }
    }

    private void HandleAttrs(Connection connection, ClientCommand command)
    {
        if (!JsonObjectFields.TryGetRaw(command.Params, "attrs"u8, out var raw, out _))
        {
            SendError(connection, command.Id, ErrorCodes.BadRequest, "attrs needs \"attrs\": an object of attributes");
            return;
        }
        if (!AttributeJson.TryParseAttributes(raw.Span, Options.MaxAttributes, out var attributes, out var code, out var error))
        {
            SendError(connection, command.Id, code, error);
            return;
        }
        if (!ClientAttributesAllowed(connection, command.Id))
        {
            return;
        }
        _index.Set(connection, Merge(attributes, connection.TokenAttributes));
        Reply(connection, command.Id);
    }

    /// <summary>The command's channel and its namespace; false (after an error reply) when either is wrong.</summary>
    private bool TryGetNamespacedChannel(Connection connection, ClientCommand command, out string channel, out NamespaceOptions ns)
    {
        ns = null!;
        if (!TryGetChannel(connection, command, out channel))
        {
            return false;
        }
        if (_policy.Resolve(channel, out var error) is not { } resolved)
        {
            SendError(connection, command.Id, ErrorCodes.UnknownNamespace, error);
            return false;
        }
        ns = resolved;
        return true;
    }

    private bool TryGetChannel(Connection connection, ClientCommand command, out string channel)
    {
        JsonObjectFields.TryGetString(command.Params, "channel"u8, out var name);
        if (!ChannelName.IsValid(name, out var error))
        {
            SendError(connection, command.Id, ErrorCodes.InvalidChannel, name is null ? "\"channel\" (a string) is required" : error);
            channel = "";
            return false;
        }
        channel = name!;
        return true;
    }

    private static void Reply(Connection connection, ulong id)
    {
        if (id != 0)
        {
            connection.TrySend(ServerFrames.EmptyResult(id));
        }
    }

    private static void SendError(Connection connection, ulong id, int code, string message)
    {
        // Plain clients get the same {"error":{...}} object, without an id.
        connection.TrySend(ServerFrames.Error(connection.Kind == ConnectionKind.Plain ? 0 : id, code, message));
    }
}
