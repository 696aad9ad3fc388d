using System.Text.Json;
using Herald.Protocol;

namespace Herald.Fuzz.Targets;

/// <summary>
/// One text message of a <c>herald.v1</c> client: the bytes go to <see cref="ClientCommandParser.TryParse"/>, then (when
/// they are valid UTF-8, as the WebSocket transport guarantees) to a real node as the first message of a new
/// connection and as a command after <c>connect</c>. Every reply must be JSON, and an error reply must carry the
/// command's id whenever the parser could read one.
/// </summary>
internal sealed class NativeCommandTarget : FuzzTarget
{
    private readonly FaultLog _log = new();
    private readonly FuzzNode _node;

    public NativeCommandTarget() => _node = new FuzzNode(_log);


    public override void Run(byte[] input)
    {
        _log.Clear();
        ClientCommandParser.TryParse(input, out var command, out var error);
        if (error is not null && error.Length == 0)
        {
            throw new FuzzFinding("refused with an empty error message");
        }
        if (FuzzNode.AsText(input) is null)
        {
            return; // the transport closes with 1007 before the node sees it
        }
        foreach (var connect in (bool[])[false, true])
        {
            var (connection, frames) = _node.OpenNative(connect);
            frames.CheckAndClear("the client, after connect");
            _node.Send(connection, input);
            _node.Close(connection);
            _log.ThrowIfAny();
            frames.CheckAndClear(connect ? "a connected client" : "a client before connect");
            if (command.Id != 0)
            {
                foreach (var text in frames.Texts)
                {
                    CheckErrorCarriesId(text, command.Id);
                }
            }
        }
    }

    private static void CheckErrorCarriesId(string frame, ulong id)
    {
        using var document = JsonDocument.Parse(frame);
        var root = document.RootElement;
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out _)
            && !(root.TryGetProperty("id", out var replyId) && replyId.ValueKind == JsonValueKind.Number && replyId.TryGetUInt64(out var n) && n == id))
        {
            throw new FuzzFinding($"an error reply without the command's id {id}: {frame}");
        }
    }

    public override void Dispose() => _node.Dispose();
}
