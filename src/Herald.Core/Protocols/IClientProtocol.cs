using Herald.Core.Connections;
using Herald.Core.Sessions;

namespace Herald.Core.Protocols;

/// <summary>
/// A client protocol: reads a connection's frames into calls on its <see cref="Node.ClientSession"/> and encodes what
/// the session answers (<see cref="ICommandReply"/>) into its own frames. The session knows no wire format; a new
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
    ValueTask OnTextFrameAsync(Node.ClientSession session, ReadOnlyMemory<byte> utf8);

    /// <summary>
    /// Tells the client its frame was not run (rate limit, invalid text, a binary frame, a server fault), tied to the
    /// frame's command when one can be read from <paramref name="frame"/> (empty when there is none).
    /// </summary>
    void Refuse(Connection connection, ReadOnlySpan<byte> frame, CommandError error);
}
