using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text.Unicode;
using Herald.Server.Transports.WebSockets;

namespace Herald.Fuzz.Targets;

/// <summary>
/// The bytes a client sends after the upgrade, read by Herald's WebSocket frame reader
/// (<see cref="WebSocketTransport.RunAsync"/>, as a <see cref="SocketWebSocket"/>) on a real node, once as a plain and
/// once as a native connection. The
/// reader gets a real socket (a connected pair of local Unix sockets, so nothing in the reader changes for the
/// harness); the client sends the input and half-closes. The connection must end (no hang), nothing may be logged as
/// an error, and what the server wrote back must be well-formed server frames: unmasked, text frames valid UTF-8,
/// a close frame with a valid code.
/// </summary>
internal sealed class WebSocketFramesTarget : FuzzTarget
{
    private static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(10);

    private readonly FaultLog _log = new();
    private readonly FuzzNode _node;
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"herald-fuzz-{Environment.ProcessId}-{Guid.NewGuid():N}.sock");
    private readonly UnixDomainSocketEndPoint _endPoint;
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);

    public WebSocketFramesTarget()
    {
        _node = new FuzzNode(_log);
        _endPoint = new UnixDomainSocketEndPoint(_path);
        _listener.Bind(_endPoint);
        _listener.Listen(16);
    }


    public override void Run(byte[] input)
    {
        _log.Clear();
        foreach (var native in (bool[])[false, true])
        {
            using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            client.Connect(_endPoint);
            var webSocket = new SocketWebSocket(_listener.Accept());
            var run = webSocket.RunAsync(_node.Node, new WebSocketAdmission.Admitted(native ? Herald.Core.Connections.ConnectionKind.Native : Herald.Core.Connections.ConnectionKind.Plain, null), "fuzz", _log.For<SocketWebSocket>());
            var written = Task.Run(() => ReadAll(client));
            try
            {
                client.Send(input);
                client.Shutdown(SocketShutdown.Send);
            }
            catch (SocketException)
            {
                // the server closed first (a protocol error in the input) and stopped reading
            }
            if (!run.Wait(HangLimit) || !written.Wait(HangLimit))
            {
                throw new FuzzFinding($"the connection ({(native ? "native" : "plain")}) did not end within {HangLimit.TotalSeconds} s of the client's last byte");
            }
            _log.ThrowIfAny();
            CheckServerFrames(written.Result, native);
        }
    }

    private static byte[] ReadAll(Socket client)
    {
        var output = new MemoryStream();
        var buffer = new byte[8192];
        try
        {
            int n;
            while ((n = client.Receive(buffer)) > 0)
            {
                output.Write(buffer, 0, n);
            }
        }
        catch (SocketException)
        {
            // reset by the server: what arrived before counts
        }
        return output.ToArray();
    }

    /// <summary>RFC 6455 from the client's side: the frames the server wrote, up to a close frame.</summary>
    private static void CheckServerFrames(byte[] bytes, bool native)
    {
        var at = 0;
        while (at < bytes.Length)
        {
            if (bytes.Length - at < 2)
            {
                throw new FuzzFinding($"a truncated frame header from the server ({(native ? "native" : "plain")})");
            }
            var b0 = bytes[at];
            var b1 = bytes[at + 1];
            var opcode = b0 & 0x0F;
            if ((b0 & 0xF0) != 0x80 || (b1 & 0x80) != 0)
            {
                throw new FuzzFinding($"a server frame with byte 0 = 0x{b0:x2}, byte 1 = 0x{b1:x2} (must be final, unmasked, no reserved bits)");
            }
            var length7 = b1 & 0x7F;
            var header = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0);
            if (bytes.Length - at < header)
            {
                throw new FuzzFinding("a truncated frame header from the server");
            }
            var length = length7 switch
            {
                126 => BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(at + 2)),
                127 => (long)BinaryPrimitives.ReadUInt64BigEndian(bytes.AsSpan(at + 2)),
                _ => length7,
            };
            if (length > bytes.Length - at - header)
            {
                throw new FuzzFinding($"a server frame of {length} bytes with {bytes.Length - at - header} written");
            }
            var payload = bytes.AsSpan(at + header, (int)length);
            at += header + (int)length;
            switch (opcode)
            {
                case 0x1 when !Utf8.IsValid(payload):
                    throw new FuzzFinding("the server sent a text frame that is not valid UTF-8: " + Convert.ToBase64String(payload));
                case 0x1 or 0x9 or 0xA:
                    continue;
                case 0x8:
                    if (payload.Length == 1 || payload.Length >= 2 && (!IsSendableCloseCode(BinaryPrimitives.ReadUInt16BigEndian(payload)) || !Utf8.IsValid(payload[2..])))
                    {
                        throw new FuzzFinding("the server sent a malformed close frame: " + Convert.ToHexString(payload));
                    }
                    if (at != bytes.Length)
                    {
                        throw new FuzzFinding($"the server wrote {bytes.Length - at} bytes after its close frame");
                    }
                    return;
                default:
                    throw new FuzzFinding($"the server sent opcode {opcode}");
            }
        }
    }

    private static bool IsSendableCloseCode(int code) => code is >= 1000 and <= 1003 or >= 1007 and <= 1014 or >= 3000 and <= 4999;

    public override void Dispose()
    {
        _listener.Dispose();
        File.Delete(_path);
        _node.Dispose();
    }
}
