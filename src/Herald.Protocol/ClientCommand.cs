namespace Herald.Protocol;

/// <summary>
/// One command of a native client: <c>{"id":N,"method":"name","params":{...}}</c>. A command without an id is a
/// notification (only <c>pong</c> is sent that way) and gets no reply.
/// </summary>
/// <param name="Id">The client's id for the reply; 0 when the command had none.</param>
/// <param name="Method">The method name as sent.</param>
/// <param name="Params">The raw UTF-8 JSON of the <c>params</c> object, empty when absent.</param>
public readonly record struct ClientCommand(ulong Id, string Method, ReadOnlyMemory<byte> Params)
{
    /// <summary>Whether the client expects a reply.</summary>
    public bool HasId => Id != 0;
}
