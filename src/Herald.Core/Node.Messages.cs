using System.Text.Json;
using Herald.Core.Attributes;
using Herald.Core.Auth;
using Herald.Core.Channels;
using Herald.Core.Connections;
using Herald.Core.Routing;
using Herald.Protocol;

namespace Herald.Core;

public sealed partial class Node
{
    private static readonly byte[] PlainPong = "pong"u8.ToArray();

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
            NodeLog.MessageHandlerFailed(_logger, connection.Id, ex);
            SendError(connection, 0, ErrorCodes.Internal, "internal error");
        }
    }

    private static ulong PeekId(Connection connection, ReadOnlyMemory<byte> utf8)
    {
        if (connection.Kind == ConnectionKind.Plain)
        {
            return 0;
        }
        ClientCommandParser.TryParse(utf8, out var command, out _);
        return command.Id;
    }

    /// <summary>Binary frames are not part of either protocol: the client gets an error and stays connected.</summary>
    public void OnBinaryMessage(Connection connection)
    {
        connection.LastReceivedTicks = NowTicks;
        NodeLog.BadClientMessage(_logger, connection.Id, "binary frame");
        SendError(connection, 0, ErrorCodes.BadRequest, "binary frames are not supported: send JSON as a text frame");
    }

    /// <summary>A message over <see cref="NodeOptions.MaxMessageSize"/>: the connection is closed with 4501.</summary>
    public void OnMessageTooLarge(Connection connection)
    {
        NodeLog.BadClientMessage(_logger, connection.Id, "message too large");
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
            NodeLog.BadClientMessage(_logger, connection.Id, error);
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
            NodeLog.BadClientMessage(_logger, connection.Id, parseError!);
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
                HandleUnsubscribe(connection, command);
                break;
            case ProtocolNames.Methods.Publish:
                HandleClientPublish(connection, command);
                break;
            case ProtocolNames.Methods.Attrs:
                HandleAttrs(connection, command);
                break;
            case ProtocolNames.Methods.Ping:
                Reply(connection, command.Id);
                break;
            default:
                SendError(connection, command.Id, ErrorCodes.UnknownMethod,
                    $"unknown method \"{command.Method}\"; methods are connect, refresh, subscribe, unsubscribe, publish, attrs, ping, pong");
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
        if (!TryAdmit(connection, claims, attributes, out var limitError))
        {
            SendError(connection, command.Id, ErrorCodes.LimitExceeded, limitError);
            NodeLog.AuthRefused(_logger, connection.Id, connection.RemoteAddress, limitError);
            connection.Disconnect(DisconnectCodes.ConnectionLimit, limitError);
            return;
        }
        if (command.HasId)
        {
            connection.TrySend(ServerFrames.Result(command.Id, (connection, Options, ExpiresIn(connection)), static (w, s) =>
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
                var channels = s.connection.Channels;
                if (channels.Length > 0)
                {
                    w.WriteStartArray("channels"u8);
                    foreach (var c in channels)
                    {
                        w.WriteStringValue(c);
                    }
                    w.WriteEndArray();
                }
            }));
        }
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
        if (!TryGetChannel(connection, command, out var channel))
        {
            return;
        }
        var ns = _policy.Resolve(channel, out var nsError);
        if (ns is null)
        {
            SendError(connection, command.Id, ErrorCodes.UnknownNamespace, nsError);
            return;
        }
        var userAllowed = ChannelPolicy.UserAllowed(ns, channel, connection.UserId);
        if (userAllowed == false)
        {
            SendError(connection, command.Id, ErrorCodes.PermissionDenied,
                $"permission denied for channel \"{channel}\": it is limited to the users after '#'");
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
        // Subscribing twice is harmless: the reply is the same and the connection stays subscribed once.
        if (connection.AddChannel(channel))
        {
            _channels.Add(channel, connection);
            if (connection.State >= ConnectionState.Closing)
            {
                _channels.Remove(channel, connection); // closed meanwhile: do not leave it behind
            }
        }
        Reply(connection, command.Id);
    }

    private void HandleUnsubscribe(Connection connection, ClientCommand command)
    {
        if (!TryGetChannel(connection, command, out var channel))
        {
            return;
        }
        if (connection.RemoveChannel(channel))
        {
            _channels.Remove(channel, connection);
        }
        Reply(connection, command.Id);
    }

    private void HandleClientPublish(Connection connection, ClientCommand command)
    {
        if (!TryGetChannel(connection, command, out var channel))
        {
            return;
        }
        var ns = _policy.Resolve(channel, out var nsError);
        if (ns is null)
        {
            SendError(connection, command.Id, ErrorCodes.UnknownNamespace, nsError);
            return;
        }
        if (!ns.ClientPublish)
        {
            SendError(connection, command.Id, ErrorCodes.PermissionDenied,
                $"permission denied for channel \"{channel}\": clients may not publish here (setting client_publish, or the namespace's client_publish); publish from your backend over UDP or HTTP");
            return;
        }
        if (!JsonObjectFields.TryGetRaw(command.Params, "data"u8, out var data, out var type))
        {
            SendError(connection, command.Id, ErrorCodes.BadRequest, "publish needs \"data\"");
            return;
        }
        var result = Publish(new PublishRequest([channel], null, data.ToArray(), type == JsonTokenType.String));
        if (!result.Succeeded)
        {
            SendError(connection, command.Id, result.ErrorCode, result.Error);
            return;
        }
        if (command.HasId)
        {
            connection.TrySend(ServerFrames.Result(command.Id, result.Recipients, static (w, n) => w.WriteNumber("recipients"u8, n)));
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
