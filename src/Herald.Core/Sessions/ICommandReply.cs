namespace Herald.Core.Sessions;

/// <summary>
/// Where the outcome of one client command goes: an adapter implements it to encode the outcome in its wire format.
/// The session calls exactly one member, once, at the moment the client must get it. For connect, subscribe and
/// unsubscribe that moment is while the streams involved are quiet, so no live publication overtakes the reply and
/// none of an unsubscribed channel follows it; that is why the outcome is handed over rather than returned.
/// </summary>
internal interface ICommandReply
{
    /// <summary>The command was done and has nothing to report.</summary>
    void Succeeded();

    /// <summary>The command was refused; nothing changed, unless the error says otherwise.</summary>
    void Failed(CommandError error);
}

/// <summary>The outcome of a command that reports a result of type <typeparamref name="TResult"/>.</summary>
internal interface ICommandReply<TResult> : ICommandReply
{
    /// <summary>The command was done; <paramref name="result"/> is what the client is told.</summary>
    void Succeeded(TResult result);
}

/// <summary>
/// Why a client's command was refused: a stable code from <see cref="Protocol.ErrorCodes"/> and a message the client's
/// developer can act on. Adapters encode it in their wire format.
/// </summary>
internal readonly record struct CommandError(int Code, string Message);
