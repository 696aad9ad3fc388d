using Herald.Core.Attributes;
using Herald.Core.Connections;
using Herald.Core.Sessions;
using Herald.Protocol;

namespace Herald.Core.Protocols.Plain;

/// <summary>
/// The plain protocol, for clients without a library: every text frame is a bare JSON object of attributes that
/// replaces the client's attributes (no reply), the text <c>ping</c> is answered with <c>pong</c>, and a token comes
/// with the upgrade as <c>?token=</c>. Errors are the <c>{"error":{...}}</c> object of herald.v1, without an id.
/// </summary>
internal sealed class PlainProtocol : IClientProtocol
{
    /// <summary>The one instance: the adapter keeps no state.</summary>
    public static readonly PlainProtocol Instance = new();

    /// <summary>The close reason for a client that must but did not pass a token.</summary>
    public const string TokenRequired = "a token is required: connect with ?token=<JWT>";

    private static readonly byte[] Pong = "pong"u8.ToArray();

    private PlainProtocol()
    {
    }

    /// <inheritdoc />
    public bool OneCopyPerPublish => true;

    /// <inheritdoc />
    /// <remarks>The data alone, whatever the target: what the seed's clients have always received.</remarks>
    public byte[] PushFrame(Routing.Publication publication, string? channel, ulong offset, bool inbox) => publication.PlainFrame;

    /// <inheritdoc />
    /// <remarks>Plain clients receive publications and error objects only.</remarks>
    public byte[]? EventFrame(ClientEvent clientEvent) => null;

    /// <inheritdoc />
    public bool ConnectsByCommand => false;

    /// <inheritdoc />
    public byte[]? PingFrame => null;

    /// <inheritdoc />
    public bool Recovers => false;

    /// <inheritdoc />
    public byte[]? DisconnectFrame(int code, string reason) => null;

    /// <inheritdoc />
    public ValueTask OnTextFrameAsync(ClientSession session, ReadOnlyMemory<byte> utf8)
    {
        var trimmed = utf8.Span.Trim(" \t\r\n"u8);
        if (trimmed.SequenceEqual("ping"u8))
        {
            session.Connection.TrySend(Pong);
            return ValueTask.CompletedTask;
        }
        var reply = new PlainReply(session.Connection);
        if (!AttributeJson.TryParseAttributes(trimmed, session.Options.MaxAttributes, out var attributes, out var code, out var error))
        {
            var mistake = new CommandError(code, error);
            session.ReportMistake(mistake);
            reply.Failed(mistake);
            return ValueTask.CompletedTask;
        }
        session.SetAttributes(attributes, reply);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public void Refuse(Connection connection, ReadOnlySpan<byte> frame, CommandError error) => new PlainReply(connection).Failed(error);

    /// <summary>
    /// Authenticates a connection with the token from its upgrade request (null: none); see
    /// <see cref="ClientSession.AuthenticateAsync"/>.
    /// </summary>
    public static ValueTask AuthenticateAsync(ClientSession session, string? token, CancellationToken cancellation) =>
        session.AuthenticateAsync(token, TokenRequired, cancellation);

    /// <summary>Plain clients hear only of errors: a success changes their attributes silently.</summary>
    private sealed class PlainReply(Connection connection) : ICommandReply
    {
        public void Succeeded()
        {
        }

        public void Failed(CommandError error) => connection.TrySend(ServerFrames.Error(0, error.Code, error.Message));
    }
}
