using Herald.Core.Connections;
using Herald.Core.Protocols;
using Herald.Core.Protocols.HeraldV1;
using Herald.Core.Protocols.Plain;
using Herald.Core.Sessions;
using Herald.Protocol;

namespace Herald.Core;

public sealed partial class Node
{
    // Clients cannot fill the log: one line per kind of mistake, and per kind of fault, every 10 s.
    private readonly LogThrottle _faultLog;
    private readonly LogThrottle _mistakeLog;

    /// <summary>The adapter that reads and writes the frames of <paramref name="connection"/>.</summary>
    private static IClientProtocol ProtocolOf(Connection connection) => ClientProtocols.For(connection.Kind);

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
        var protocol = ProtocolOf(connection);
        if (!connection.TryTakeRateToken(Options.ClientMessageRate, now))
        {
            protocol.Refuse(connection, utf8.Span, new CommandError(ErrorCodes.LimitExceeded,
                $"rate limit: more than {Options.ClientMessageRate} messages per second (setting client_message_rate)"));
            return;
        }
        // The one check of the message's text: what passes is valid UTF-8 without lone surrogate escapes, so every
        // string read from it by an adapter and every byte passed on (data, attributes, channel names) is valid text.
        if (!JsonText.TryValidate(utf8.Span, out var textError))
        {
            ClientMistake(connection, ErrorCodes.InvalidText, textError);
            protocol.Refuse(connection, utf8.Span, new CommandError(ErrorCodes.InvalidText, textError));
            return;
        }
        try
        {
            await protocol.OnTextFrameAsync(new ClientSession(this, connection), utf8).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // A server fault, not the client's: its stack trace is logged, once per cause and interval.
            if (_faultLog.ShouldLog(ex.GetType().FullName + " at " + ex.TargetSite?.Name, out var suppressed))
            {
                NodeLog.MessageHandlerFailed(_logger, connection.Id, LogThrottle.Note(suppressed), ex);
            }
            protocol.Refuse(connection, utf8.Span, new CommandError(ErrorCodes.Internal, "internal error"));
        }
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
        ProtocolOf(connection).Refuse(connection, default,
            new CommandError(ErrorCodes.BadRequest, "binary frames are not supported: send JSON as a text frame"));
    }

    /// <summary>A message over <see cref="NodeOptions.MaxMessageSize"/>: the connection is closed with 4501.</summary>
    public void OnMessageTooLarge(Connection connection)
    {
        ClientMistake(connection, ErrorCodes.MessageTooLarge, "message too large");
        connection.Disconnect(DisconnectCodes.MessageTooLarge, $"message larger than {Options.MaxMessageSize} bytes (setting max_message_size)");
    }

    /// <summary>Logs a client's bad message: a debug line per kind of mistake (the error code) and interval.</summary>
    private void ClientMistake(Connection connection, int code, string error)
    {
        if (_mistakeLog.ShouldLog(code.ToString(System.Globalization.CultureInfo.InvariantCulture), out var suppressed))
        {
            NodeLog.BadClientMessage(_logger, connection.Id, error, LogThrottle.Note(suppressed));
        }
    }
}
