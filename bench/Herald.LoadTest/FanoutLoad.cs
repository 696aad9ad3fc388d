using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;

namespace Herald.LoadTest;

/// <summary>
/// Whole-server load against a running Herald (given its pid): opens N plain WebSocket connections spread over source
/// addresses 127.0.0.x (so N may exceed one address's ephemeral ports), each announcing a group attribute; measures
/// connect time and the server's memory per connection; then sends UDP publishes at a fixed rate for a fixed time, to
/// everyone or to one group in ten, and measures publish-to-deliver latency from a timestamp in the payload, loss,
/// server CPU per delivered message and kernel UDP drops. Loopback only; bounded in count and time.
/// </summary>
internal static class FanoutLoad
{
    private const int ConnectionsPerSourceAddress = 20_000;

    public sealed record Options(int Port, int UdpPort, int Pid, int Connections, int Rate, int Seconds, bool OneInTen, int Parallel);

    public static async Task<object> RunAsync(Options options)
    {
        var (rssBefore, pssBefore) = ServerProcess.Memory(options.Pid);
        var clients = new Client[options.Connections];
        var watch = Stopwatch.StartNew();
        using (var gate = new SemaphoreSlim(options.Parallel))
        {
            await Task.WhenAll(Enumerable.Range(0, options.Connections).Select(async i =>
            {
                await gate.WaitAsync();
                try
                {
                    clients[i] = await Client.ConnectAsync(options.Port, i);
                }
                finally
                {
                    gate.Release();
                }
            }));
        }
        var connectSeconds = watch.Elapsed.TotalSeconds;
        await Task.Delay(2000); // let the server settle (attributes applied, buffers returned)
        var (rssIdle, pssIdle) = ServerProcess.Memory(options.Pid);

        var cpuBefore = ServerProcess.CpuTime(options.Pid);
        var dropsBefore = ServerProcess.UdpReceiveBufferErrors();
        using var udp = new UdpClient(AddressFamily.InterNetwork);
        var target = new IPEndPoint(IPAddress.Loopback, options.UdpPort);
        var total = options.Rate * options.Seconds;
        var interval = TimeSpan.FromSeconds(1.0 / options.Rate);
        var start = Stopwatch.GetTimestamp();
        for (var n = 0; n < total; n++)
        {
            var due = start + (long)(n * interval.TotalSeconds * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < due)
            {
                await Task.Delay(1);
            }
            var where = options.OneInTen ? "{\"g\":\"3\"}" : "{}";
            var body = $"{{\"where\":{where},\"data\":{{\"t\":{Stopwatch.GetTimestamp()},\"n\":{n},\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}}}";
            await udp.SendAsync(Encoding.UTF8.GetBytes(body), target);
        }
        await Task.Delay(3000); // the last deliveries
        var cpu = ServerProcess.CpuTime(options.Pid) - cpuBefore;
        var drops = ServerProcess.UdpReceiveBufferErrors() - dropsBefore;

        var latencies = clients.SelectMany(c => c.Latencies).Order().ToArray();
        var delivered = latencies.Length;
        var expected = (long)total * (options.OneInTen ? clients.Count(c => c.Group == 3) : clients.Length);
        foreach (var client in clients)
        {
            client.Dispose();
        }
        return new
        {
            Mode = options.OneInTen ? "targeted (1 in 10)" : "broadcast",
            options.Connections,
            ConnectSeconds = Math.Round(connectSeconds, 2),
            ServerRssKiB = new { Before = rssBefore, Idle = rssIdle },
            ServerPssKiB = new { Before = pssBefore, Idle = pssIdle },
            ServerKiBPerConnection = new
            {
                Rss = Math.Round((rssIdle - rssBefore) / (double)options.Connections, 2),
                Pss = Math.Round((pssIdle - pssBefore) / (double)options.Connections, 2),
            },
            PublishesPerSecond = options.Rate,
            Publishes = total,
            Delivered = delivered,
            Expected = expected,
            LatencyMs = new { P50 = P(latencies, 0.50), P99 = P(latencies, 0.99), P999 = P(latencies, 0.999), Max = latencies.Length == 0 ? 0 : Math.Round(latencies[^1], 2) },
            ServerCpuSeconds = Math.Round(cpu.TotalSeconds, 2),
            ServerCpuMicrosecondsPerDelivery = delivered == 0 ? 0 : Math.Round(cpu.TotalMilliseconds * 1000 / delivered, 2),
            KernelUdpRcvbufErrors = drops,
            Date = DateTimeOffset.UtcNow.ToString("u", CultureInfo.InvariantCulture),
        };
    }

    private static double P(double[] sorted, double p) => sorted.Length == 0 ? 0 : Math.Round(sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))], 2);

    private sealed class Client : IDisposable
    {
        private readonly ClientWebSocket _socket;

        private Client(ClientWebSocket socket, int group)
        {
            _socket = socket;
            Group = group;
            _ = Task.Run(ReceiveAsync);
        }

        public int Group { get; }

        public List<double> Latencies { get; } = [];

        public static async Task<Client> ConnectAsync(int port, int index)
        {
            // Spread sources over 127.0.0.1, 127.0.0.2, ...: each address has its own ephemeral port range.
            var source = new IPAddress(new byte[] { 127, 0, 0, (byte)(1 + index / ConnectionsPerSourceAddress) });
            var handler = new SocketsHttpHandler
            {
                ConnectCallback = async (context, cancellation) =>
                {
                    var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(context.DnsEndPoint.Host == "127.0.0.1" ? new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port) : context.DnsEndPoint, cancellation);
                    return new NetworkStream(socket, ownsSocket: true);
                },
            };
            var webSocket = new ClientWebSocket();
            await webSocket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"), new HttpMessageInvoker(handler), CancellationToken.None);
            var group = index % 10;
            await webSocket.SendAsync(Encoding.UTF8.GetBytes($"{{\"g\":\"{group}\"}}"), WebSocketMessageType.Text, true, CancellationToken.None);
            return new Client(webSocket, group);
        }

        private async Task ReceiveAsync()
        {
            var buffer = new byte[2048];
            try
            {
                while (_socket.State == WebSocketState.Open)
                {
                    var result = await _socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                    var now = Stopwatch.GetTimestamp();
                    if (result.MessageType != WebSocketMessageType.Text || !result.EndOfMessage)
                    {
                        continue;
                    }
                    // {"t":123,...}: read the timestamp without a JSON parser (10k clients share 2 cores with the server).
                    var span = buffer.AsSpan(0, result.Count);
                    var t = span.IndexOf("\"t\":"u8);
                    if (t < 0)
                    {
                        continue;
                    }
                    var digits = span[(t + 4)..];
                    var end = digits.IndexOf((byte)',');
                    if (end > 0 && long.TryParse(digits[..end], NumberStyles.None, CultureInfo.InvariantCulture, out var sent))
                    {
                        lock (Latencies)
                        {
                            Latencies.Add(Stopwatch.GetElapsedTime(sent, now).TotalMilliseconds);
                        }
                    }
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }

        public void Dispose() => _socket.Abort();
    }
}
