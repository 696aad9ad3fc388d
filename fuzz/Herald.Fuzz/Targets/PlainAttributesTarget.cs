using Herald.Core.Attributes;
using Herald.Protocol;

namespace Herald.Fuzz.Targets;

/// <summary>
/// One text message of a plain client (a bare JSON attribute object, or <c>ping</c>): the bytes go to
/// <see cref="AttributeJson.TryParseAttributes"/>, then (when valid UTF-8) to a real node on a plain connection.
/// </summary>
internal sealed class PlainAttributesTarget : FuzzTarget
{
    private const int MaxAttributes = 32;
    private readonly FaultLog _log = new();
    private readonly FuzzNode _node;

    public PlainAttributesTarget() => _node = new FuzzNode(_log);


    public override void Run(byte[] input)
    {
        _log.Clear();
        if (AttributeJson.TryParseAttributes(input, MaxAttributes, out var attributes, out var code, out var error))
        {
            if (attributes.Count > MaxAttributes)
            {
                throw new FuzzFinding($"{attributes.Count} attributes accepted, limit {MaxAttributes}");
            }
        }
        else if (code is <= ErrorCodes.Internal or >= 200 || error.Length == 0)
        {
            throw new FuzzFinding($"refused with code {code} and message \"{error}\"");
        }
        if (FuzzNode.AsText(input) is null)
        {
            return;
        }
        var (connection, frames) = _node.OpenPlain();
        _node.Send(connection, input);
        _node.Close(connection);
        _log.ThrowIfAny();
        frames.CheckAndClear("the plain client");
    }

    public override void Dispose() => _node.Dispose();
}
