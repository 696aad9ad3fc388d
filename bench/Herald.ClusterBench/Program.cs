using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Herald.Redis;
using Herald.Server;
using Herald.Testing;
using Microsoft.Extensions.Logging;

// Measures publish-to-deliver latency (p50/p99/max) at a fixed publish rate, and the highest acknowledged publish rate,
// for three set-ups on this machine: one node (memory engine), one node (SQLite, the embedded default), and two nodes on
// one Redis with the publisher on node A and the subscribers on node B (cross-node). Everything runs on loopback in this
// process; redis-server is started here on a free port unless --redis names one.
//
//   dotnet run -c Release --project bench/Herald.ClusterBench -- [--rate 1000] [--seconds 10] [--subscribers 50] [--redis host:port]

var rate = Arg("--rate", 1000);
var seconds = Arg("--seconds", 10);
var subscribers = Arg("--subscribers", 50);
var concurrency = Arg("--concurrency", 32);
SubscriberCount.Value = subscribers;
var redisAddress = args.SkipWhile(a => a != "--redis").Skip(1).FirstOrDefault();

RedisServer? ownRedis = null;
if (redisAddress is null)
{
    ownRedis = await RedisServer.StartAsync();
    redisAddress = ownRedis.Address;
}
Console.WriteLine($"Herald cluster benchmark, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, Redis {redisAddress}, " +
    $"{subscribers} subscribers, {rate} publishes/s for {seconds} s, then unthrottled with {concurrency} publishers");
try
{
    using var dataDir = new TempDirectory();
    var setups = new (string Name, Func<Task<(HeraldServer Publisher, HeraldServer Subscriber, IAsyncDisposable Owner)>> Start)[]
    {
        ("single node, memory", async () => Single(await StartAsync(o => o))),
        ("single node, SQLite", async () => Single(await StartAsync(o => o with { DataDirectory = Path.Combine(dataDir.Path, "data") }))),
        ("2 nodes on Redis, cross-node", async () =>
        {
            var prefix = "bench" + Guid.NewGuid().ToString("N")[..8];
            var a = await StartAsync(o => o with { Redis = Engine(redisAddress, prefix) });
            var b = await StartAsync(o => o with { Redis = Engine(redisAddress, prefix) });
            return (a, b, new Both(a, b));
        }),
    };
    Console.WriteLine();
    Console.WriteLine($"| set-up | at {rate}/s: p50 / p99 / max publish→deliver | delivered | max acknowledged publishes/s |");
    Console.WriteLine("|---|---|---:|---:|");
    foreach (var (name, start) in setups)
    {
        var (publisher, subscriber, owner) = await start();
        await using (owner)
        {
            await RunAsync(publisher, subscriber, rate, TimeSpan.FromSeconds(2), 0); // warm-up (JIT, connection pools), not counted
            var fixedRate = await RunAsync(publisher, subscriber, rate, TimeSpan.FromSeconds(seconds), 0);
            var flat = await RunAsync(publisher, subscriber, 0, TimeSpan.FromSeconds(Math.Max(3, seconds / 2)), concurrency);
            Console.WriteLine($"| {name} | {fixedRate.P50:0.00} / {fixedRate.P99:0.00} / {fixedRate.Max:0.0} ms | {fixedRate.Delivered:N0} of {fixedRate.Expected:N0} | {flat.PublishesPerSecond:N0} |");
        }
    }
}
finally
{
    if (ownRedis is not null)
    {
        await ownRedis.DisposeAsync();
    }
}

int Arg(string name, int fallback)
{
    var value = args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
    return value is null ? fallback : int.Parse(value, CultureInfo.InvariantCulture);
}

static (HeraldServer, HeraldServer, IAsyncDisposable) Single(HeraldServer server) => (server, server, server);

static RedisEngineOptions Engine(string address, string prefix) => new() { Addresses = [address], KeyPrefix = prefix };

static Task<HeraldServer> StartAsync(Func<HeraldServerOptions, HeraldServerOptions> configure) =>
    HeraldServer.StartAsync(configure(new HeraldServerOptions
    {
        Host = "127.0.0.1", Port = 0, UdpPort = 0, ConsoleLog = false, LogLevel = LogLevel.Warning,
        Node = new Herald.Core.NodeOptions { SendQueueLimit = 100_000, SendQueueMaxBytes = 256 * 1024 * 1024 },
    }));

// Publishes {"t":<timestamp>} over HTTP, at `rate` per second (open loop) or as fast as `concurrency` publishers can;
// every subscriber records the latency of every publication it receives.
static async Task<Result> RunAsync(HeraldServer publisher, HeraldServer subscriber, int rate, TimeSpan duration, int concurrency)
{
    var channel = "bench-" + Guid.NewGuid().ToString("N")[..8];
    var clients = new List<(ClientWebSocket Socket, Task<List<double>> Receiving)>();
    using var stop = new CancellationTokenSource();
    for (var i = 0; i < Arg2(subscriber); i++)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("herald.v1");
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{subscriber.HttpEndPoint.Port}/"), CancellationToken.None);
        await SendAsync(socket, """{"id":1,"method":"connect"}""");
        await SendAsync(socket, "{\"id\":2,\"method\":\"subscribe\",\"params\":{\"channel\":\"" + channel + "\"}}");
        clients.Add((socket, ReceiveAsync(socket, stop.Token)));
    }
    await Task.Delay(300); // the subscriptions are in place
    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = new Uri($"http://127.0.0.1:{publisher.HttpEndPoint.Port}/") };
    var sent = 0;
    var acknowledged = 0;
    var watch = Stopwatch.StartNew();
    if (rate > 0)
    {
        var inFlight = new List<Task>();
        var interval = TimeSpan.FromSeconds(1.0 / rate);
        for (var next = TimeSpan.Zero; next < duration; next += interval)
        {
            var wait = next - watch.Elapsed;
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait);
            }
            inFlight.Add(PublishAsync());
            sent++;
        }
        await Task.WhenAll(inFlight);
    }
    else
    {
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (watch.Elapsed < duration)
            {
                Interlocked.Increment(ref sent);
                await PublishAsync();
            }
        }));
    }
    var elapsed = watch.Elapsed;
    await Task.Delay(1000); // the last deliveries arrive
    await stop.CancelAsync();
    var latencies = new List<double>();
    foreach (var (socket, receiving) in clients)
    {
        latencies.AddRange(await receiving);
        socket.Abort();
        socket.Dispose();
    }
    latencies.Sort();
    return new Result(
        latencies.Count == 0 ? 0 : latencies[(int)(latencies.Count * 0.50)],
        latencies.Count == 0 ? 0 : latencies[Math.Min(latencies.Count - 1, (int)(latencies.Count * 0.99))],
        latencies.Count == 0 ? 0 : latencies[^1],
        latencies.Count, (long)acknowledged * clients.Count, acknowledged / elapsed.TotalSeconds);

    async Task PublishAsync()
    {
        var body = "{\"channel\":\"" + channel + "\",\"data\":{\"t\":" + Stopwatch.GetTimestamp().ToString(CultureInfo.InvariantCulture) + "}}";
        using var content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
        using var response = await http.PostAsync("api/publish", content);
        if (response.IsSuccessStatusCode)
        {
            Interlocked.Increment(ref acknowledged);
        }
    }
}

static int Arg2(HeraldServer _) => SubscriberCount.Value;

static Task SendAsync(ClientWebSocket socket, string text) =>
    socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

static async Task<List<double>> ReceiveAsync(ClientWebSocket socket, CancellationToken stop)
{
    var latencies = new List<double>();
    var buffer = new byte[64 * 1024];
    try
    {
        while (!stop.IsCancellationRequested)
        {
            var count = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(count), stop);
                count += result.Count;
            }
            while (!result.EndOfMessage);
            var now = Stopwatch.GetTimestamp();
            using var message = JsonDocument.Parse(buffer.AsMemory(0, count));
            if (message.RootElement.TryGetProperty("push", out var push) && push.GetString() == "pub")
            {
                var sentAt = message.RootElement.GetProperty("data").GetProperty("t").GetInt64();
                latencies.Add((now - sentAt) * 1000.0 / Stopwatch.Frequency);
            }
        }
    }
    catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
    {
    }
    return latencies;
}

internal sealed record Result(double P50, double P99, double Max, long Delivered, long Expected, double PublishesPerSecond);

internal sealed class Both(HeraldServer a, HeraldServer b) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        await a.DisposeAsync();
        await b.DisposeAsync();
    }
}

internal static class SubscriberCount
{
    public static int Value { get; set; } = 50;
}
