using Herald.Core.Connections;
using Herald.Core.Protocols;
using Herald.Core.Protocols.Plain;
using Herald.Core.Protocols.Pusher;
using Herald.Core.Sessions;
using Herald.Protocol;

namespace Herald.Core;

/// <summary>
/// What transports call for a connection's traffic: its frames go to its protocol's adapter, which runs them on the
/// connection's <see cref="ClientSession"/>; bad input gets an error in the client's protocol and affects nobody else.
/// </summary>
public sealed partial class Node
{
    // Clients cannot fill the log: one line per kind of fault every 10 s.
    private readonly LogThrottle _faultLog;

    /// <summary>The session that runs <paramref name="connection"/>'s commands (a value: no allocation).</summary>
    internal ClientSession SessionFor(Connection connection) => new(_sessions, connection);

    /// <summary>
    /// Authenticates a plain client that passed <c>?token=</c> (or must, when tokens are required): a valid token makes
    /// it ready with the token's user, attributes and channels; otherwise it is closed with 4503 (invalid or missing)
    /// or 4005 (expired).
    /// </summary>
    public ValueTask AuthenticatePlainAsync(Connection connection, string? token, CancellationToken cancellation = default) =>
        PlainProtocol.AuthenticateAsync(SessionFor(connection), token, cancellation);

    /// <summary>
    /// Starts a Pusher protocol connection (opened with <see cref="ConnectionKind.Pusher"/>) with what its upgrade
    /// said: refused with Pusher's close code, or told its socket id (<c>pusher:connection_established</c>).
    /// </summary>
    public void StartPusher(Connection connection, PusherHandshake handshake) => PusherProtocol.Start(SessionFor(connection), handshake);

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
        var protocol = connection.Protocol;
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
            _sessions.ClientMistake(connection, ErrorCodes.InvalidText, textError);
            protocol.Refuse(connection, utf8.Span, new CommandError(ErrorCodes.InvalidText, textError));
            return;
        }
        try
        {
            await protocol.OnTextFrameAsync(SessionFor(connection), utf8).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // A server fault, not the client's: its stack trace is logged, once per cause and interval.
            if (_faultLog.ShouldLog(LogThrottle.FaultCause(ex), out var suppressed))
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
        _sessions.ClientMistake(connection, ErrorCodes.BadRequest, "binary frame");
        connection.Protocol.Refuse(connection, default,
            new CommandError(ErrorCodes.BadRequest, "binary frames are not supported: send JSON as a text frame"));
    }

    /// <summary>A message over <see cref="NodeOptions.MaxMessageSize"/>: the connection is closed with 4501.</summary>
    public void OnMessageTooLarge(Connection connection)
    {
        _sessions.ClientMistake(connection, ErrorCodes.MessageTooLarge, "message too large");
        connection.Disconnect(DisconnectCodes.MessageTooLarge, $"message larger than {Options.MaxMessageSize} bytes (setting max_message_size)");
    }
}
