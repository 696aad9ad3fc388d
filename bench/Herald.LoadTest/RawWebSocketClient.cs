using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Herald.LoadTest;

/// <summary>
/// A minimal WebSocket client on a bare socket, so that 10,000 of them cost the shared 2 cores as little as possible: a
/// hand-written handshake, no <c>ClientWebSocket</c>/<c>HttpMessageInvoker</c> per connection, and a receive loop that
/// parses unmasked server frames in place, reads the timestamp of each publication with as little parsing as its
/// protocol allows (see <see cref="OnText"/>), answers pings, and takes every frame that arrived together from one
/// receive. Speaks plain, <c>herald.v1</c> or the Pusher protocol (<see cref="LoadProtocol"/>). Loopback only.
/// </summary>
internal sealed class RawWebSocketClient : IDisposable
{
    private const int BufferSize = 2048;
    private static readonly byte[] TimestampKey = "\"t\":"u8.ToArray();
    private static readonly byte[] NativePublication = "{\"push\":\"pub\""u8.ToArray();
    private static readonly byte[] NativePing = "{\"push\":\"ping\""u8.ToArray();
    private static readonly byte[] NativeReply = "{\"id\":"u8.ToArray();
    private static readonly byte[] NativeError = "\"error\":"u8.ToArray();
    private static readonly byte[] NativePong = "{\"method\":\"pong\"}"u8.ToArray();
    private static readonly byte[] PusherPong = "{\"event\":\"pusher:pong\",\"data\":{}}"u8.ToArray();

    private readonly Socket _socket;
    private readonly LatencyRecorder _latencies;
    private readonly LoadProtocol _protocol;

    private RawWebSocketClient(Socket socket, int group, LatencyRecorder latencies, LoadProtocol protocol, int subscriptions)
    {
        _socket = socket;
        Group = group;
        _latencies = latencies;
        _protocol = protocol;
        _pendingSubscriptions = subscriptions;
    }

    /// <summary>The value of this client's <c>g</c> attribute (plain), or the N of its channel <c>gN</c> (native, Pusher).</summary>
    public int Group { get; }

    /// <summary>Text frames received.</summary>
    public long Received;

    /// <summary>Ping frames received (and answered with a pong): WebSocket pings, native <c>ping</c> pushes, <c>pusher:ping</c>.</summary>
    public long Pings;

    // Subscriptions (and, for native clients, the connect command) not yet confirmed; 0 for plain clients.
    private int _pendingSubscriptions;

    /// <summary>Whether the server confirmed every command the client sent on connecting (always true for plain clients).</summary>
    public bool Ready => Volatile.Read(ref _pendingSubscriptions) <= 0;

    /// <summary>Commands the server refused on connecting (native error replies, <c>pusher:subscription_error</c>, <c>pusher:error</c>).</summary>
    public int Refusals { get; private set; }

    /// <summary>The first refusal's frame, for the report.</summary>
    public string? FirstRefusal { get; private set; }

    /// <summary>True once the server closed the connection (close frame or end of stream).</summary>
    public bool ClosedByServer { get; private set; }

    /// <summary>The close code the server sent, 0 when none.</summary>
    public int CloseCode { get; private set; }

    /// <summary>
    /// Connects from <paramref name="source"/> (an address 127.0.0.x) and upgrades. Plain: sends <c>{"g":"group"}</c>.
    /// Native: <c>connect</c>, then <c>subscribe</c> to <c>load</c> (and <c>g{group}</c> when <paramref name="targeted"/>).
    /// Pusher: connects to <c>/app/{appKey}</c> and sends <c>pusher:subscribe</c> for the same channels.
    /// </summary>
    public static async Task<RawWebSocketClient> ConnectAsync(
        IPAddress source, int port, int group, LatencyRecorder latencies, LoadProtocol protocol = LoadProtocol.Plain, bool targeted = false, string appKey = "load-key")
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(new IPEndPoint(source, 0));
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            var (path, extraHeaders) = protocol switch
            {
                LoadProtocol.Native => ("/", "Sec-WebSocket-Protocol: herald.v1\r\n"),
                LoadProtocol.Pusher => ($"/app/{appKey}?protocol=7&client=herald-load&version=1.0", ""),
                _ => ("/", ""),
            };
            var request = $"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                $"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extraHeaders}\r\n";
            await socket.SendAsync(Encoding.ASCII.GetBytes(request));
            // Read up to the blank line; what came after it (a Pusher server's connection_established) goes to the
            // receive loop.
            var buffer = new byte[BufferSize];
            var count = 0;
            int headEnd;
            while ((headEnd = buffer.AsSpan(0, count).IndexOf("\r\n\r\n"u8)) < 0)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(count));
                if (read == 0 || (count += read) == buffer.Length)
                {
                    throw new IOException("no WebSocket handshake reply");
                }
            }
            if (!buffer.AsSpan(0, count).StartsWith("HTTP/1.1 101"u8))
            {
                throw new IOException("handshake refused: " + Encoding.ASCII.GetString(buffer, 0, Math.Min(count, 200)));
            }
            var leftover = count - (headEnd + 4);
            buffer.AsSpan(headEnd + 4, leftover).CopyTo(buffer);
            string[] channels = targeted ? ["load", $"g{group}"] : ["load"];
            var subscriptions = 0;
            switch (protocol)
            {
                case LoadProtocol.Plain:
                    await SendFrameAsync(socket, 0x1, Encoding.UTF8.GetBytes($"{{\"g\":\"{group}\"}}"));
                    break;
                case LoadProtocol.Native:
                    // Commands run in order, so the subscribes need not wait for connect's reply.
                    await SendFrameAsync(socket, 0x1, "{\"id\":1,\"method\":\"connect\"}"u8.ToArray());
                    for (var c = 0; c < channels.Length; c++)
                    {
                        await SendFrameAsync(socket, 0x1, Encoding.UTF8.GetBytes(
                            $"{{\"id\":{c + 2},\"method\":\"subscribe\",\"params\":{{\"channel\":\"{channels[c]}\"}}}}"));
                    }
                    subscriptions = 1 + channels.Length;
                    break;
                case LoadProtocol.Pusher:
                    foreach (var channel in channels)
                    {
                        await SendFrameAsync(socket, 0x1, Encoding.UTF8.GetBytes(
                            $"{{\"event\":\"pusher:subscribe\",\"data\":{{\"channel\":\"{channel}\"}}}}"));
                    }
                    subscriptions = channels.Length;
                    break;
            }
            var client = new RawWebSocketClient(socket, group, latencies, protocol, subscriptions);
            _ = client.ReceiveLoopAsync(buffer, leftover);
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

    private async Task ReceiveLoopAsync(byte[] buffer, int count)
    {
        try
        {
            while (true)
            {
                var now = Stopwatch.GetTimestamp();
                if (count == 0 || !HasWholeFrame(buffer.AsSpan(0, count)))
                {
                    var read = await _socket.ReceiveAsync(buffer.AsMemory(count), SocketFlags.None);
                    if (read == 0)
                    {
                        ClosedByServer = true;
                        return;
                    }
                    now = Stopwatch.GetTimestamp();
                    count += read;
                }
                var consumed = 0;
                while (TryParseFrame(buffer.AsSpan(consumed, count - consumed), out var opcode, out var payloadStart, out var length))
                {
                    var payload = buffer.AsSpan(consumed + payloadStart, length);
                    switch (opcode)
                    {
                        case 0x1:
                            Received++;
                            if (OnText(payload, now) is { } reply)
                            {
                                await SendFrameAsync(_socket, 0x1, reply);
                            }
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

    private static bool HasWholeFrame(ReadOnlySpan<byte> data) => TryParseFrame(data, out _, out _, out _);

    /// <summary>
    /// One text frame: records a publication's latency, counts confirmations and refusals of the commands sent on
    /// connecting, and returns the answer to a protocol-level ping (null: nothing to send).
    /// </summary>
    private byte[]? OnText(ReadOnlySpan<byte> payload, long now)
    {
        switch (_protocol)
        {
            case LoadProtocol.Native:
                // Herald writes "push" or "id" first; a publication's data is the publish's JSON object as it was sent.
                if (payload.StartsWith(NativePublication))
                {
                    RecordLatency(payload, now);
                }
                else if (payload.StartsWith(NativePing))
                {
                    Interlocked.Increment(ref Pings);
                    return NativePong;
                }
                else if (payload.StartsWith(NativeReply))
                {
                    if (payload.IndexOf(NativeError) >= 0)
                    {
                        Refused(payload);
                    }
                    Interlocked.Decrement(ref _pendingSubscriptions);
                }
                return null;
            case LoadProtocol.Pusher:
                return OnPusherText(payload, now);
            default:
                RecordLatency(payload, now);
                return null;
        }
    }

    /// <summary>
    /// A Pusher frame, <c>{"event":E,"channel":C,"data":D}</c> with D a JSON string: read with a reader (no document),
    /// and for an event the string is unescaped into a stack buffer before its timestamp is read, so the figure holds
    /// whichever way the server escapes the quotes inside it.
    /// </summary>
    private byte[]? OnPusherText(ReadOnlySpan<byte> payload, long now)
    {
        Span<byte> data = stackalloc byte[1024];
        var dataLength = -1;
        var kind = PusherFrameKind.Other;
        var reader = new Utf8JsonReader(payload);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("event"u8))
                {
                    reader.Read();
                    kind = reader.ValueTextEquals("pusher:ping"u8) ? PusherFrameKind.Ping
                        : reader.ValueTextEquals("pusher_internal:subscription_succeeded"u8) ? PusherFrameKind.Subscribed
                        : reader.ValueTextEquals("pusher:subscription_error"u8) || reader.ValueTextEquals("pusher:error"u8) ? PusherFrameKind.Refused
                        : reader.ValueTextEquals("message"u8) ? PusherFrameKind.Event
                        : PusherFrameKind.Other;
                }
                else if (reader.ValueTextEquals("data"u8))
                {
                    reader.Read();
                    // Unescaped text is never longer than its escaped form, so this bound is enough.
                    if (reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length <= data.Length)
                    {
                        dataLength = reader.CopyString(data);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return null; // not for the load tool to judge; the publication then counts as lost
        }
        switch (kind)
        {
            case PusherFrameKind.Event when dataLength >= 0:
                RecordLatency(data[..dataLength], now);
                return null;
            case PusherFrameKind.Ping:
                Interlocked.Increment(ref Pings);
                return PusherPong;
            case PusherFrameKind.Subscribed:
                Interlocked.Decrement(ref _pendingSubscriptions);
                return null;
            case PusherFrameKind.Refused:
                Refused(payload);
                Interlocked.Decrement(ref _pendingSubscriptions);
                return null;
            default:
                return null;
        }
    }

    private void Refused(ReadOnlySpan<byte> frame)
    {
        Refusals++;
        FirstRefusal ??= Encoding.UTF8.GetString(frame[..Math.Min(frame.Length, 300)]);
    }

    private enum PusherFrameKind
    {
        Other,
        Event,
        Ping,
        Subscribed,
        Refused,
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
