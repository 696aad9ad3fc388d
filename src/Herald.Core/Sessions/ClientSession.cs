using Herald.Core.Auth;
using Herald.Core.Channels;
using Herald.Core.Connections;
using Herald.Protocol;

namespace Herald.Core.Sessions;

/// <summary>
/// The commands one client connection can run, whatever protocol it speaks: connect (token, attributes, recovery),
/// subscribe (with recovery), unsubscribe, publish, presence, refresh, attributes and inbox acknowledgement.
/// Arguments and results are typed, never frames: an adapter in <c>Protocols/</c> reads a command from its frame,
/// calls the session, and encodes the outcome the session hands to its <see cref="ICommandReply"/>.
/// </summary>
/// <remarks>
/// A value made per command (two references: the node's <see cref="SessionServices"/> and the connection), so running
/// one costs no allocation of its own; everything it works on is handed to it in <see cref="SessionServices"/>.
/// </remarks>
internal readonly partial struct ClientSession(SessionServices services, Connection connection)
{
    /// <summary>The connection whose commands this session runs.</summary>
    public Connection Connection => connection;

    /// <summary>The settings of the node (limits an adapter applies while reading, such as max_attributes).</summary>
    public NodeOptions Options => services.Options;

    /// <summary>
    /// Logs a client's bad frame (the client's mistake, not the server's): one debug line per kind of mistake
    /// (the error code) and interval, so clients cannot fill the log.
    /// </summary>
    public void ReportMistake(CommandError error) => services.ClientMistake(connection, error.Code, error.Message);

    /// <summary>The channel named in a command; false, with the error to send, when the name is missing or invalid.</summary>
    private static bool TryGetChannel(string? name, out string channel, out CommandError error)
    {
        if (!ChannelName.IsValid(name, out var invalid))
        {
            channel = "";
            error = new CommandError(ErrorCodes.InvalidChannel, name is null ? "\"channel\" (a string) is required" : invalid);
            return false;
        }
        channel = name!;
        error = default;
        return true;
    }

    /// <summary>The channel named in a command and its namespace; false, with the error to send, when either is wrong.</summary>
    private bool TryGetNamespacedChannel(string? name, out string channel, out NamespaceOptions ns, out CommandError error)
    {
        ns = null!;
        if (!TryGetChannel(name, out channel, out error))
        {
            return false;
        }
        if (services.Policy.Resolve(channel, out var unknown) is not { } resolved)
        {
            error = new CommandError(ErrorCodes.UnknownNamespace, unknown);
            return false;
        }
        ns = resolved;
        return true;
    }

    /// <summary>The error for a token that did not verify: 109 when it expired (get a new one), else 101.</summary>
    private static CommandError TokenRefused(TokenResult result, string prefix = "") =>
        new(result.Failure == TokenFailure.Expired ? ErrorCodes.TokenExpired : ErrorCodes.Unauthorized, prefix + result.Error);

    /// <summary>Seconds until the connection's token expires, or null when it does not.</summary>
    private long? ExpiresInSeconds() =>
        connection.ExpiresAtTicks == 0 ? null : Math.Max(0, (long)TimeSpan.FromTicks(connection.ExpiresAtTicks - services.Clock.Now).TotalSeconds);
}
