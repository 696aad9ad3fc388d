using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Herald.Client.Tests.Framing;

/// <summary>
/// A WebSocket peer on a loopback port whose frames the test writes itself: it accepts the client's connections one at
/// a time and can put several frames into ONE socket write, so the client reads a reply and pushes together, in any
/// order the test chooses, as a batching network or runtime would hand them over. The real server never lets a
/// test choose that.
/// </summary>
public sealed class RawWebSocketServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private Socket? _connection;
    private readonly List<byte> _received = [];

    public RawWebSocketServer() => _listener.Start();

    public Uri Uri => new($"ws://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

    /// <summary>Accepts the client's next connection and completes the upgrade (with the herald.v1 subprotocol).</summary>
    public async Task AcceptAsync()
    {
        _connection?.Dispose();
        _received.Clear();
        _connection = await _listener.AcceptSocketAsync().DefaultTimeout();
        var request = await ReadUntilAsync("\r\n\r\n"u8.ToArray());
        var key = request.Split("\r\n").Select(l => l.Split(':', 2)).First(p => p[0].Trim().Equals("Sec-WebSocket-Key", StringComparison.OrdinalIgnoreCase))[1].Trim();
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        await SendRawAsync(Encoding.ASCII.GetBytes(
            $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: herald.v1\r\n\r\n"));
    }

    /// <summary>Reads the client's next text frame (a command) as JSON, skipping pongs.</summary>
    public async Task<JsonElement> ReceiveCommandAsync()
    {
        while (true)
        {
            var header = await ReadExactlyAsync(2);
            var opcode = header[0] & 0x0F;
            long length = header[1] & 0x7F;
            if (length == 126)
            {
                var b = await ReadExactlyAsync(2);
                length = (b[0] << 8) | b[1];
            }
            else if (length == 127)
            {
                length = (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(await ReadExactlyAsync(8));
            }
            var mask = (header[1] & 0x80) != 0 ? await ReadExactlyAsync(4) : [0, 0, 0, 0];
            var payload = await ReadExactlyAsync((int)length);
            for (var i = 0; i < payload.Length; i++)
            {
                payload[i] ^= mask[i % 4];
            }
            if (opcode == 1)
            {
                using var document = JsonDocument.Parse(payload);
                var command = document.RootElement.Clone();
                if (command.TryGetProperty("method", out var method) && method.GetString() == "pong")
                {
                    continue;
                }
                return command;
            }
            if (opcode == 8)
            {
                throw new IOException("the client closed the connection");
            }
        }
    }

    /// <summary>Reads the next command, checks its method, and returns it (its id is what the reply must carry).</summary>
    public async Task<JsonElement> ExpectAsync(string method)
    {
        var command = await ReceiveCommandAsync();
        Assert.True(command.GetProperty("method").GetString() == method, $"expected {method}, got {command}");
        return command;
    }

    /// <summary>Writes every frame in one socket write: the client gets them in one read.</summary>
    public Task SendTogetherAsync(params string[] frames) => SendRawAsync([.. frames.SelectMany(Frame)]);

    /// <summary>Ends the connection without a close frame (a reset), as a network failure would.</summary>
    public void Drop()
    {
        if (_connection is { } connection)
        {
            connection.LingerState = new LingerOption(true, 0);
            connection.Dispose();
            _connection = null;
        }
    }

    private static byte[] Frame(string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        var header = payload.Length switch
        {
            < 126 => new byte[] { 0x81, (byte)payload.Length },
            <= ushort.MaxValue => [0x81, 126, (byte)(payload.Length >> 8), (byte)payload.Length],
            _ => throw new ArgumentException("frames in these tests are small"),
        };
        return [.. header, .. payload];
    }

    private async Task SendRawAsync(byte[] bytes)
    {
        var connection = _connection ?? throw new InvalidOperationException("no connection accepted");
        var sent = 0;
        while (sent < bytes.Length)
        {
            sent += await connection.SendAsync(bytes.AsMemory(sent), SocketFlags.None).AsTask().DefaultTimeout();
        }
    }

    private async Task<string> ReadUntilAsync(byte[] terminator)
    {
        while (IndexOf(terminator) < 0)
        {
            await FillAsync();
        }
        var end = IndexOf(terminator) + terminator.Length;
        var text = Encoding.ASCII.GetString([.. _received.Take(end)]);
        _received.RemoveRange(0, end);
        return text;
    }

    private async Task<byte[]> ReadExactlyAsync(int count)
    {
        while (_received.Count < count)
        {
            await FillAsync();
        }
        var bytes = _received.Take(count).ToArray();
        _received.RemoveRange(0, count);
        return bytes;
    }

    private async Task FillAsync()
    {
        var connection = _connection ?? throw new InvalidOperationException("no connection accepted");
        var buffer = new byte[4096];
        var read = await connection.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).AsTask().DefaultTimeout();
        if (read == 0)
        {
            throw new IOException("the client ended the connection");
        }
        _received.AddRange(buffer.AsSpan(0, read).ToArray());
    }

    private int IndexOf(byte[] pattern)
    {
        for (var i = 0; i + pattern.Length <= _received.Count; i++)
        {
            if (Enumerable.Range(0, pattern.Length).All(j => _received[i + j] == pattern[j]))
            {
                return i;
            }
        }
        return -1;
    }

    public ValueTask DisposeAsync()
    {
        Drop();
        _listener.Stop();
        return ValueTask.CompletedTask;
    }
}
