using System.Text.Json;
using Herald.Core.Attributes;
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
    public ValueTask OnTextMessageAsync(Connection connection, ReadOnlyMemory<byte> utf8)
    {
        connection.LastReceivedTicks = NowTicks;
        if (connection.State >= ConnectionState.Closing)
        {
            return ValueTask.CompletedTask;
        }
        try
        {
            if (connection.Kind == ConnectionKind.Plain)
            {
                HandlePlainMessage(connection, utf8.Span);
            }
            else
            {
                HandleCommand(connection, utf8);
            }
        }
        catch (Exception ex)
        {
            NodeLog.MessageHandlerFailed(_logger, connection.Id, ex);
            SendError(connection, 0, ErrorCodes.Internal, "internal error");
        }
        return ValueTask.CompletedTask;
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
        _index.Set(connection, attributes);
    }

    private void HandleCommand(Connection connection, ReadOnlyMemory<byte> utf8)
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
                HandleConnect(connection, command);
                break;
            case ProtocolNames.Methods.Subscribe:
                HandleSubscribe(connection, command);
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
                    $"unknown method \"{command.Method}\"; methods are connect, subscribe, unsubscribe, publish, attrs, ping, pong");
                break;
        }
    }

    private void HandleConnect(Connection connection, ClientCommand command)
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
        }
        _index.Set(connection, attributes);
        connection.LastPingTicks = NowTicks;
        connection.MarkReady();
        if (command.HasId)
        {
            connection.TrySend(ServerFrames.Result(command.Id, (connection.Id, Options), static (w, s) =>
            {
                w.WriteString("client"u8, s.Id);
                w.WriteString("version"u8, ServerInfo.Version);
                w.WriteNumber("ping"u8, (int)s.Options.PingInterval.TotalSeconds);
                w.WriteNumber("pong"u8, (int)s.Options.PongTimeout.TotalSeconds);
            }));
        }
    }

    private void HandleSubscribe(Connection connection, ClientCommand command)
    {
        if (!TryGetChannel(connection, command, out var channel))
        {
            return;
        }
        if (connection.ChannelCount >= Options.MaxChannelsPerConnection)
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
        if (!Options.ClientPublish)
        {
            SendError(connection, command.Id, ErrorCodes.PermissionDenied,
                "clients may not publish on this server (setting client_publish); publish from your backend over UDP or HTTP");
            return;
        }
        if (!TryGetChannel(connection, command, out var channel))
        {
            return;
        }
        if (!JsonObjectFields.TryGetRaw(command.Params, "data"u8, out var data, out var type))
        {
            SendError(connection, command.Id, ErrorCodes.BadRequest, "publish needs \"data\"");
            return;
        }
        var result = Publish(new PublishRequest([channel], null, data.ToArray(), type == JsonTokenType.String));
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
        _index.Set(connection, attributes);
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
