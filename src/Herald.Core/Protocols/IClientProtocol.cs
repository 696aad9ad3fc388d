using Herald.Core.Connections;
using Herald.Core.Routing;
using Herald.Core.Sessions;

namespace Herald.Core.Protocols;

/// <summary>
/// A client protocol: reads a connection's frames into calls on its <see cref="ClientSession"/>, encodes what
/// the session answers (<see cref="ICommandReply"/>) into its own frames, and says which frame its clients get for a
/// publication (<see cref="PushFrame"/>). The session knows no wire format; a new
/// protocol (or a transport with frames of its own) is a new adapter beside <c>Plain/</c> and <c>HeraldV1/</c>.
/// </summary>
/// <remarks>
/// The node has already stamped the connection's activity, applied the message rate limit and checked the frame is
/// valid text (UTF-8 without lone surrogate escapes); it turns an exception into <see cref="Refuse"/> with an internal
/// error. An adapter keeps no state of its own between frames: what a connection is lives on the connection.
/// </remarks>
internal interface IClientProtocol
{
    /// <summary>Runs one text frame from the session's client. Frames of one connection come one at a time, in order.</summary>
    ValueTask OnTextFrameAsync(ClientSession session, ReadOnlyMemory<byte> utf8);

    /// <summary>
    /// Tells the client its frame was not run (rate limit, invalid text, a binary frame, a server fault), tied to the
    /// frame's command when one can be read from <paramref name="frame"/> (empty when there is none).
    /// </summary>
    void Refuse(Connection connection, ReadOnlySpan<byte> frame, CommandError error);

    /// <summary>
    /// Whether this protocol's clients cannot tell the targets of a publish apart (its channels, its users), so a
    /// publish sent to several of them reaches such a client once. They keep no stream positions either.
    /// </summary>
    bool OneCopyPerPublish { get; }

    /// <summary>
    /// The frame this protocol's clients get for <paramref name="publication"/> delivered on <paramref name="channel"/>
    /// (null: by attributes or to a user) at <paramref name="offset"/> (0: not stored), as an inbox entry when
    /// <paramref name="inbox"/>. Taken from the publication, which encodes each frame once per publish and wire format:
    /// the hub asks once per fan-out and protocol and shares the frame among the recipients.
    /// </summary>
    byte[] PushFrame(Publication publication, string? channel, ulong offset, bool inbox);

    /// <summary>
    /// The frame this protocol's clients get for <paramref name="clientEvent"/> (a join or leave, a subscription the
    /// backend changed), or null when they are not told. Asked once per event and protocol, shared by the recipients.
    /// </summary>
    byte[]? EventFrame(ClientEvent clientEvent);

    /// <summary>
    /// Whether a connection of this protocol authenticates with a command after the upgrade (it is not ready until
    /// then, and is closed when the command does not come within connect_timeout).
    /// </summary>
    bool ConnectsByCommand { get; }

    /// <summary>
    /// The frame the node sends every ping_interval to keep this protocol's connections alive and find dead ones (they
    /// must answer within pong_timeout); null when the protocol has none, and the transport's WebSocket ping is used
    /// where the transport leaves it to the node (<see cref="IKeepAliveTransport"/>).
    /// </summary>
    byte[]? PingFrame { get; }

    /// <summary>
    /// Whether this protocol's clients recover missed publications from history when they reconnect: after a gap the
    /// node closes them with insufficient_state (4006) so they do. Clients that cannot recover are left connected.
    /// </summary>
    bool Recovers { get; }

    /// <summary>The frame sent right before the server closes a connection, or null when the close code alone tells.</summary>
    byte[]? DisconnectFrame(int code, string reason);

    /// <summary>
    /// The close code this protocol's clients get when the core closes a connection with Herald's
    /// <paramref name="code"/> (<see cref="Herald.Protocol.DisconnectCodes"/>): a protocol whose clients read close codes
    /// of their own (Pusher's reconnect rules) maps them; the others keep Herald's.
    /// </summary>
    int CloseCode(int code) => code;

    /// <summary>
    /// Whether this protocol's connections present Herald's tokens (so require_token applies to them). Protocols whose
    /// clients are authorised otherwise (Pusher's app signatures) say no.
    /// </summary>
    bool AuthenticatesWithTokens => true;

    /// <summary>The connection closed and left everything (called once); what the adapter counted for it is given back.</summary>
    void Closed(ClientSession session)
    {
    }

    /// <summary>
    /// The id of this node's <paramref name="sequence"/>th connection, unique across a cluster: Herald's
    /// <c>{node id}-{hex}</c>, unless the protocol's clients expect ids of another form (Pusher's socket ids).
    /// </summary>
    string ConnectionId(string nodeId, long sequence) =>
        nodeId + "-" + sequence.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
}
