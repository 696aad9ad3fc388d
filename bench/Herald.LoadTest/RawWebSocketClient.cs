using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Herald.LoadTest;

/// <summary>
/// A minimal plain WebSocket client on a bare socket, so that 10,000 of them cost the shared 2 cores as little as
/// possible: a hand-written handshake, no <c>ClientWebSocket</c>/<c>HttpMessageInvoker</c> per connection, and a
/// receive loop that parses unmasked server frames in place, reads the timestamp of each text frame without a JSON
/// parser, answers pings, and takes every frame that arrived together from one receive. Loopback only.
/// </summary>
internal sealed class RawWebSocketClient : IDisposable
{
    private const int BufferSize = 2048;
    private static readonly byte[] TimestampKey = "\"t\":"u8.ToArray();

    private readonly Socket _socket;
    private readonly LatencyRecorder _latencies;

    private RawWebSocketClient(Socket socket, int group, LatencyRecorder latencies)
    {
        _socket = socket;
        Group = group;
        _latencies = latencies;
    }

    /// <summary>The value of this client's <c>g</c> attribute.</summary>
    public int Group { get; }

    /// <summary>Text frames received.</summary>
    public long Received;

    /// <summary>Ping frames received (and answered with a pong).</summary>
    public long Pings;

    /// <summary>True once the server closed the connection (close frame or end of stream).</summary>
    public bool ClosedByServer { get; private set; }

    /// <summary>The close code the server sent, 0 when none.</summary>
    public int CloseCode { get; private set; }

    /// <summary>Connects from <paramref name="source"/> (an address 127.0.0.x), upgrades, and sends <c>{"g":"group"}</c>.</summary>
    public static async Task<RawWebSocketClient> ConnectAsync(IPAddress source, int port, int group, LatencyRecorder latencies)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(new IPEndPoint(source, 0));
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            var request = $"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
            await socket.SendAsync(Encoding.ASCII.GetBytes(request));
            // The server sends nothing after the 101 until the client's first message, so one read ends at the blank line.
            var buffer = new byte[1024];
            var count = 0;
            while (buffer.AsSpan(0, count).IndexOf("\r\n\r\n"u8) < 0)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(count));
                if (read == 0 || (count += read) == buffer.Length)
                {
                    throw new IOException("no WebSocket handshake reply");
                }
            }
            if (!buffer.AsSpan(0, count).StartsWith("HTTP/1.1 101"u8))
            {
                throw new IOException("handshake refused: " + Encoding.ASCII.GetString(buffer, 0, Math.Min(count, 80)));
            }
            await SendFrameAsync(socket, 0x1, Encoding.UTF8.GetBytes($"{{\"g\":\"{group}\"}}"));
            var client = new RawWebSocketClient(socket, group, latencies);
            _ = client.ReceiveLoopAsync();
            return client;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Client frames are masked (RFC 6455 5.3); a zero mask key leaves the payload as it is.</summary>
    private static ValueTask<int> SendFrameAsync(Socket socket, byte opcode, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > 125)
        {
            throw new ArgumentException("the load tool only sends short frames", nameof(payload));
        }
        var frame = new byte[6 + payload.Length];
        frame[0] = (byte)(0x80 | opcode);
        frame[1] = (byte)(0x80 | payload.Length);
        payload.CopyTo(frame.AsSpan(6));
        return socket.SendAsync(frame.AsMemory(), SocketFlags.None);
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[BufferSize];
        var count = 0;
        try
        {
            while (true)
            {
                var read = await _socket.ReceiveAsync(buffer.AsMemory(count), SocketFlags.None);
                if (read == 0)
                {
                    ClosedByServer = true;
                    return;
                }
                var now = Stopwatch.GetTimestamp();
                count += read;
                var consumed = 0;
                while (TryParseFrame(buffer.AsSpan(consumed, count - consumed), out var opcode, out var payloadStart, out var length))
                {
                    var payload = buffer.AsSpan(consumed + payloadStart, length);
                    switch (opcode)
                    {
                        case 0x1:
                            Received++;
                            RecordLatency(payload, now);
                            break;
                        case 0x8:
                            CloseCode = length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : 0;
                            ClosedByServer = true;
                            return;
                        case 0x9:
                            Interlocked.Increment(ref Pings);
                            await SendFrameAsync(_socket, 0xA, payload.ToArray());
                            break;
                    }
                    consumed += payloadStart + length;
                }
                if (consumed > 0)
                {
                    buffer.AsSpan(consumed, count - consumed).CopyTo(buffer);
                    count -= consumed;
                }
                if (count == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2); // a frame larger than the buffer: rare, grow
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    private static bool TryParseFrame(ReadOnlySpan<byte> data, out int opcode, out int payloadStart, out int length)
    {
        opcode = payloadStart = length = 0;
        if (data.Length < 2)
        {
            return false;
        }
        opcode = data[0] & 0x0F;
        var len = data[1] & 0x7F;
        payloadStart = 2;
        if (len == 126)
        {
            if (data.Length < 4)
            {
                return false;
            }
            len = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
            payloadStart = 4;
        }
        else if (len == 127)
        {
            if (data.Length < 10)
            {
                return false;
            }
            len = checked((int)BinaryPrimitives.ReadUInt64BigEndian(data[2..]));
            payloadStart = 10;
        }
        length = len;
        return data.Length >= payloadStart + len;
    }

    /// <summary><c>{"t":123,...}</c>: the timestamp without a JSON parser.</summary>
    private void RecordLatency(ReadOnlySpan<byte> payload, long now)
    {
        var t = payload.IndexOf(TimestampKey);
        if (t < 0)
        {
            return;
        }
        var digits = payload[(t + TimestampKey.Length)..];
        var end = digits.IndexOf((byte)',');
        if (end > 0 && long.TryParse(digits[..end], NumberStyles.None, CultureInfo.InvariantCulture, out var sent))
        {
            _latencies.Add(now - sent);
        }
    }

    /// <summary>Drops the connection without a close handshake.</summary>
    public void Dispose() => _socket.Dispose();
}
