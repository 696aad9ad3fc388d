using System.Buffers;
using Herald.Server.Transports.WebSockets;

namespace Herald.Fuzz.Targets;

/// <summary>
/// The first bytes of a TCP connection on the WebSocket port, read by the direct listener's upgrade parser
/// (<see cref="UpgradeRequest.Inspect"/>). The same bytes are also offered split in two segments, as they arrive in
/// two reads: the verdict must not depend on where the split falls.
/// </summary>
internal sealed class UpgradeHeadTarget : FuzzTarget
{

    public override void Run(byte[] input)
    {
        var whole = UpgradeRequest.Inspect(new ReadOnlySequence<byte>(input), out var request);
        Check(whole, request, input.Length);
        if (input.Length > 1)
        {
            var split = Segments(input, input.Length / 2 + input[0] % Math.Max(1, input.Length / 2));
            var verdict = UpgradeRequest.Inspect(split, out var splitRequest);
            Check(verdict, splitRequest, input.Length);
            if (verdict != whole || splitRequest != request)
            {
                throw new FuzzFinding($"the verdict depends on how the bytes arrived: {whole} in one read, {verdict} in two");
            }
        }
    }

    private static void Check(HeadVerdict verdict, UpgradeRequest? request, int length)
    {
        switch (verdict)
        {
            case HeadVerdict.Upgrade when request is null:
                throw new FuzzFinding("Upgrade without a request");
            case HeadVerdict.Upgrade when request.HeadLength > length || request.HeadLength > UpgradeRequest.MaxHeadBytes:
                throw new FuzzFinding($"head length {request.HeadLength} beyond the {length} bytes received");
            case HeadVerdict.Upgrade when !request.Path.StartsWith('/') || request.Key.Length != 24:
                throw new FuzzFinding($"accepted path \"{request.Path}\" or key \"{request.Key}\"");
            case HeadVerdict.Upgrade:
                WebSocketAdmission.Choose(request.Protocols, request.Query); // what the listener does with an accepted head next
                break;
            case HeadVerdict.NeedMore when length >= UpgradeRequest.MaxHeadBytes:
                throw new FuzzFinding($"waits for more after {length} bytes (limit {UpgradeRequest.MaxHeadBytes})");
            case HeadVerdict.NeedMore or HeadVerdict.PassOn when request is not null:
                throw new FuzzFinding($"{verdict} with a request");
        }
    }

    private static ReadOnlySequence<byte> Segments(byte[] input, int at)
    {
        at = Math.Clamp(at, 1, input.Length - 1);
        var first = new Segment(input.AsMemory(0, at), 0);
        var last = first.Append(input.AsMemory(at));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
