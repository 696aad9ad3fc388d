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

    /// <summary>The next server frame (unmasked, short): its opcode and payload as text.</summary>
    public async Task<(int Opcode, string Payload)> ReadFrameAsync()
    {
        var header = await ReadBytesAsync(2);
        var length = header[1] & 0x7F;
        if (length == 126)
        {
            var extended = await ReadBytesAsync(2);
            length = (extended[0] << 8) | extended[1];
        }
        var payload = await ReadBytesAsync(length);
        return (header[0] & 0x0F, Encoding.UTF8.GetString(payload));
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
        var buffer = new byte[4096];
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
