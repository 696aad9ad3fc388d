using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Transports;

/// <summary>A bare TCP connection to the test server, for requests a real client would never split or malform.</summary>
internal sealed class RawHttpConnection : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly List<byte> _pending = [];

    private RawHttpConnection(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public static async Task<RawHttpConnection> OpenAsync(TestServer server)
    {
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync("127.0.0.1", server.Server.HttpEndPoint.Port).DefaultTimeout();
        return new RawHttpConnection(client);
    }

    /// <summary>A WebSocket upgrade request head for <paramref name="target"/> with the given key and extra header lines.</summary>
    public static string UpgradeHead(string target = "/", string key = "dGhlIHNhbXBsZSBub25jZQ==", string extra = "") =>
        $"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n";

    public static string ExpectedAccept(string key) =>
        Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));

    public Task SendAsync(string text) => SendAsync(Encoding.ASCII.GetBytes(text));

    public async Task SendAsync(byte[] bytes) => await _stream.WriteAsync(bytes).AsTask().DefaultTimeout();

    /// <summary>Sends every byte as its own write (with no delay set, its own TCP segment).</summary>
    public async Task SendByteByByteAsync(string text)
    {
        foreach (var b in Encoding.ASCII.GetBytes(text))
        {
            await _stream.WriteAsync(new[] { b }).AsTask().DefaultTimeout();
            await _stream.FlushAsync().DefaultTimeout();
        }
    }

    /// <summary>A response head (status line and headers) and, with Content-Length, its body.</summary>
    public async Task<(string Head, string Body)> ReadResponseAsync()
    {
        var head = await ReadHeadAsync();
        var length = 0;
        var chunked = false;
        foreach (var line in head.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                length = int.Parse(line["Content-Length:".Length..].Trim());
            }
            chunked |= line.Equals("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase);
        }
        if (!chunked)
        {
            return (head, Encoding.UTF8.GetString(await ReadBytesAsync(length)));
        }
        var body = new StringBuilder();
        while (true)
        {
            var size = Convert.ToInt32(await ReadLineAsync(), 16);
            var chunk = await ReadBytesAsync(size + 2); // the chunk and its CRLF
            if (size == 0)
            {
                return (head, body.ToString());
            }
            body.Append(Encoding.UTF8.GetString(chunk, 0, size));
        }
    }

    private async Task<string> ReadLineAsync()
    {
        while (true)
        {
            var end = _pending.IndexOf((byte)'\n');
            if (end >= 0)
            {
                var line = Encoding.ASCII.GetString([.. _pending.GetRange(0, end)]).TrimEnd('\r');
                _pending.RemoveRange(0, end + 1);
                return line;
            }
            await FillAsync();
        }
    }

    public async Task<string> ReadHeadAsync()
    {
        while (true)
        {
            var text = Encoding.ASCII.GetString([.. _pending]);
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                _pending.RemoveRange(0, end + 4);
                return text[..end];
            }
            await FillAsync();
        }
    }

    /// <summary>Sends a masked text frame, as a client must (RFC 6455 5.3).</summary>
    public Task SendTextFrameAsync(string text) => SendAsync(MaskedTextFrame(text));

    public static byte[] MaskedTextFrame(string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        if (payload.Length > 125)
        {
            throw new ArgumentException("short frames only", nameof(text));
        }
        byte[] mask = [1, 2, 3, 4];
        var frame = new byte[6 + payload.Length];
        frame[0] = 0x81;
        frame[1] = (byte)(0x80 | payload.Length);
        mask.CopyTo(frame, 2);
        for (var i = 0; i < payload.Length; i++)
        {
            frame[6 + i] = (byte)(payload[i] ^ mask[i % 4]);
        }
        return frame;
    }

    /// <summary>The next server frame: its opcode and payload as text.</summary>
    public async Task<(int Opcode, string Payload)> ReadFrameAsync()
    {
        var frame = await ReadServerFrameAsync();
        return (frame.Opcode, frame.Text);
    }

    /// <summary>
    /// A client frame (RFC 6455 5.2): FIN, reserved bits and opcode, then the payload length in 7, 7+16 or 7+64 bits,
    /// then the mask and the masked payload (unless <paramref name="masked"/> is false, which a client must never do).
    /// </summary>
    public static byte[] ClientFrame(int opcode, ReadOnlySpan<byte> payload, bool fin = true, int rsv = 0, bool masked = true)
    {
        byte[] mask = [0x37, 0xFA, 0x21, 0x3D];
        var lengthBytes = payload.Length <= 125 ? 0 : payload.Length <= ushort.MaxValue ? 2 : 8;
        var header = 2 + lengthBytes + (masked ? 4 : 0);
        var frame = new byte[header + payload.Length];
        frame[0] = (byte)((fin ? 0x80 : 0) | (rsv << 4) | opcode);
        frame[1] = (byte)((masked ? 0x80 : 0) | (lengthBytes switch { 0 => payload.Length, 2 => 126, _ => 127 }));
        if (lengthBytes == 2)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)payload.Length);
        }
        else if (lengthBytes == 8)
        {
            BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)payload.Length);
        }
        if (masked)
        {
            mask.CopyTo(frame, 2 + lengthBytes);
        }
        for (var i = 0; i < payload.Length; i++)
        {
            frame[header + i] = masked ? (byte)(payload[i] ^ mask[i % 4]) : payload[i];
        }
        return frame;
    }

    public static byte[] ClientFrame(int opcode, string text, bool fin = true) => ClientFrame(opcode, Encoding.UTF8.GetBytes(text), fin);

    /// <summary>A client close frame: the code in two bytes, then the reason.</summary>
    public static byte[] ClientCloseFrame(int code, string reason = "") =>
        ClientFrame(0x8, [(byte)(code >> 8), (byte)code, .. Encoding.UTF8.GetBytes(reason)]);

    /// <summary>The next server frame, of any length; server frames must be unmasked and use no reserved bit.</summary>
    public async Task<ServerFrame> ReadServerFrameAsync()
    {
        var header = await ReadBytesAsync(2);
        Assert.True((header[1] & 0x80) == 0, "a server frame must not be masked");
        Assert.True((header[0] & 0x70) == 0, "a server frame must not set reserved bits");
        long length = header[1] & 0x7F;
        if (length == 126)
        {
            length = BinaryPrimitives.ReadUInt16BigEndian(await ReadBytesAsync(2));
            Assert.True(length > 125, "a 16-bit length is only for payloads over 125 bytes");
        }
        else if (length == 127)
        {
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(await ReadBytesAsync(8));
            Assert.True(length > ushort.MaxValue, "a 64-bit length is only for payloads over 65535 bytes");
        }
        return new ServerFrame((header[0] & 0x80) != 0, header[0] & 0x0F, header[1] & 0x7F, await ReadBytesAsync(checked((int)length)));
    }

    /// <summary>Reads until the server closes the connection; true when it did (rather than the read timing out).</summary>
    public async Task<bool> ReadToEndAsync()
    {
        var buffer = new byte[4096];
        while (await _stream.ReadAsync(buffer).AsTask().DefaultTimeout() > 0)
        {
        }
        return true;
    }

    /// <summary>Reads until the server closes the connection; the count of bytes that came (and were not read) before the end.</summary>
    public async Task<int> CountBytesToEndAsync()
    {
        var count = _pending.Count;
        _pending.Clear();
        var buffer = new byte[4096];
        int read;
        while ((read = await _stream.ReadAsync(buffer).AsTask().DefaultTimeout()) > 0)
        {
            count += read;
        }
        return count;
    }

    private async Task<byte[]> ReadBytesAsync(int count)
    {
        while (_pending.Count < count)
        {
            await FillAsync();
        }
        var bytes = _pending.GetRange(0, count).ToArray();
        _pending.RemoveRange(0, count);
        return bytes;
    }

    private async Task FillAsync()
    {
        var buffer = new byte[16384];
        var read = await _stream.ReadAsync(buffer).AsTask().DefaultTimeout();
        if (read == 0)
        {
            throw new EndOfStreamException("the server closed the connection; received so far: " + Encoding.ASCII.GetString([.. _pending]));
        }
        _pending.AddRange(buffer.AsSpan(0, read));
    }

    /// <summary>Drops the connection with a TCP reset instead of a FIN.</summary>
    public void Reset()
    {
        _client.Client.LingerState = new LingerOption(true, 0);
        _client.Client.Close();
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>A frame the server sent: FIN, opcode, the 7-bit length field (126 and 127 announce 16 and 64 bits) and payload.</summary>
internal sealed record ServerFrame(bool Fin, int Opcode, int LengthField, byte[] Payload)
{
    public string Text => Encoding.UTF8.GetString(Payload);

    /// <summary>A close frame's code (RFC 6455 5.5.1); null when it carries none.</summary>
    public int? CloseCode => Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(Payload) : null;

    public string CloseReason => Payload.Length > 2 ? Encoding.UTF8.GetString(Payload, 2, Payload.Length - 2) : "";
}
