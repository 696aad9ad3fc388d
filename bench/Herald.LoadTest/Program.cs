using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Herald.Protocol;
using Herald.Server;

namespace Herald.LoadTest;

/// <summary>
/// Publish benchmark: starts Herald in this process on free loopback ports (memory engine, or the SQLite engine in a
/// temporary data directory), connects native subscribers over real WebSockets, and drives HTTP publishes from
/// concurrent keep-alive clients for a fixed time. Reports acknowledged publishes per second and publish-to-deliver
/// latency (each payload carries its send timestamp). Bounded in time and count; loopback only.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "fanout")
        {
            return await FanoutAsync(args[1..]);
        }
        if (args.Length > 0 && args[0] == "udp")
        {
            return await UdpAsync(args[1..]);
        }
        if (args.Length > 0 && args[0] == "sendfloor")
        {
            return await SendFloorAsync(args[1..]);
        }
        if (args.Length > 0 && args[0] == "sendfloor-sink")
        {
            return await SendFloor.SinkAsync(args[1..]);
        }
        var options = Options.Parse(args);
        if (options is null)
        {
            Console.Error.WriteLine("usage: Herald.LoadTest [--engine memory|sqlite] [--publishers 8] [--subscribers 4] [--channels 4] [--seconds 10] [--payload 100]");
            return 2;
        }
        var dataDirectory = options.Engine == "sqlite" ? Directory.CreateTempSubdirectory("herald-bench-").FullName : null;
        try
        {
            var result = await RunAsync(options, dataDirectory);
            Console.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        finally
        {
            if (dataDirectory is not null)
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    /// <summary>
    /// <c>udp --port P --udp-port U --pid PID [--rates 50000,100000,200000,300000] [--seconds 5] [--senders 1]</c>
    /// against a Herald started separately: UDP ingress alone, publishes that match nobody.
    /// </summary>
    private static async Task<int> UdpAsync(string[] args)
    {
        int port = 6552, udpPort = 6553, pid = 0, seconds = 5, senders = 1;
        int[] rates = [50_000, 100_000, 200_000, 300_000];
        for (var i = 0; i < args.Length; i++)
        {
            int Next() => int.Parse(args[++i], CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--port": port = Next(); break;
                case "--udp-port": udpPort = Next(); break;
                case "--pid": pid = Next(); break;
                case "--seconds": seconds = Math.Clamp(Next(), 1, 60); break;
                case "--senders": senders = Math.Clamp(Next(), 1, 8); break;
                case "--rates": rates = [.. args[++i].Split(',').Select(r => Math.Clamp(int.Parse(r, CultureInfo.InvariantCulture), 1, 2_000_000))]; break;
                default:
                    Console.Error.WriteLine($"unknown option {args[i]}");
                    return 2;
            }
        }
        if (pid == 0)
        {
            Console.Error.WriteLine("udp needs --pid of the running Herald (to read its CPU time)");
            return 2;
        }
        var result = await UdpIngressLoad.RunAsync(new UdpIngressLoad.Options(port, udpPort, pid, rates, seconds, senders));
        Console.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    /// <summary>
    /// <c>sendfloor [--connections 10000] [--rate 10] [--seconds 10] [--payload 100] [--threads 2]</c>: no Herald; the
    /// CPU one non-blocking loopback send of a small frame costs here, the floor under a broadcast's CPU per delivery.
    /// </summary>
    private static async Task<int> SendFloorAsync(string[] args)
    {
        int connections = 10_000, rate = 10, seconds = 10, payload = 100, threads = 2;
        for (var i = 0; i < args.Length; i++)
        {
            int Next() => int.Parse(args[++i], CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--connections": connections = Math.Clamp(Next(), 1, 28_000); break;
                case "--rate": rate = Math.Clamp(Next(), 1, 1000); break;
                case "--seconds": seconds = Math.Clamp(Next(), 1, 120); break;
                case "--payload": payload = Math.Clamp(Next(), 1, 125); break;
                case "--threads": threads = Math.Clamp(Next(), 1, 16); break;
                default:
                    Console.Error.WriteLine($"unknown option {args[i]}");
                    return 2;
            }
        }
        var result = await SendFloor.RunAsync(new SendFloor.Options(connections, rate, seconds, payload, threads));
        Console.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    /// <summary>
    /// <c>fanout --port P --udp-port U --pid PID [--connections 10000] [--rate 10] [--seconds 10] [--one-in-ten] [--parallel 256] [--idle 0]
    /// [--protocol plain|native|pusher] [--app-key load-key]</c> against a Herald started separately (e.g.
    /// <c>dotnet herald.dll serve --memory</c>; for <c>pusher</c>, with an app of that key as the default app, so UDP
    /// publishes to channel <c>load</c> reach its Pusher subscribers).
    /// </summary>
    private static async Task<int> FanoutAsync(string[] args)
    {
        int port = 6552, udpPort = 6553, pid = 0, connections = 10_000, rate = 10, seconds = 10, parallel = 256, idle = 0;
        var oneInTen = false;
        var protocol = LoadProtocol.Plain;
        var appKey = "load-key";
        for (var i = 0; i < args.Length; i++)
        {
            int Next() => int.Parse(args[++i], CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--port": port = Next(); break;
                case "--udp-port": udpPort = Next(); break;
                case "--pid": pid = Next(); break;
                case "--connections": connections = Math.Clamp(Next(), 1, 100_000); break;
                case "--rate": rate = Math.Clamp(Next(), 1, 100_000); break;
                case "--seconds": seconds = Math.Clamp(Next(), 0, 600); break;
                case "--parallel": parallel = Math.Clamp(Next(), 1, 1024); break;
                case "--one-in-ten": oneInTen = true; break;
                case "--idle": idle = Math.Clamp(Next(), 0, 3600); break;
                case "--app-key": appKey = args[++i]; break;
                case "--protocol":
                    if (!Enum.TryParse(args[++i], ignoreCase: true, out protocol) || !Enum.IsDefined(protocol) || char.IsDigit(args[i][0]))
                    {
                        Console.Error.WriteLine($"--protocol {args[i]}: use plain, native or pusher");
                        return 2;
                    }
                    break;
                default:
                    Console.Error.WriteLine($"unknown option {args[i]}");
                    return 2;
            }
        }
        if (pid == 0)
        {
            Console.Error.WriteLine("fanout needs --pid of the running Herald (to read its memory and CPU time)");
            return 2;
        }
        var result = await FanoutLoad.RunAsync(new FanoutLoad.Options(port, udpPort, pid, connections, rate, seconds, oneInTen, parallel, idle, protocol, appKey));
        Console.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    private static async Task<Result> RunAsync(Options options, string? dataDirectory)
    {
        await using var server = await HeraldServer.StartAsync(new HeraldServerOptions
        {
            Host = "127.0.0.1",
            Port = 0,
            UdpEnabled = false,
            ConsoleLog = false,
            LogLevel = Microsoft.Extensions.Logging.LogLevel.Warning,
            DataDirectory = dataDirectory,
            Node = new Herald.Core.NodeOptions { HistorySize = 1000, SendQueueLimit = 100_000, SendQueueMaxBytes = 256 * 1024 * 1024 },
        });
        var port = server.HttpEndPoint.Port;
        var latencies = new List<double>[options.Subscribers];
        var received = new long[options.Subscribers];
        using var stop = new CancellationTokenSource();
        var subscribers = new List<Task>();
        for (var s = 0; s < options.Subscribers; s++)
        {
            latencies[s] = new List<double>(1 << 16);
            subscribers.Add(await SubscribeAsync(port, $"bench-{s % options.Channels}", latencies[s], received, s, stop.Token));
        }

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Publishers })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}/"),
        };
        var padding = new string('x', Math.Max(0, options.Payload - 40));
        long acknowledged = 0, failed = 0;
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        var deadline = TimeSpan.FromSeconds(options.Seconds);
        var publishers = Enumerable.Range(0, options.Publishers).Select(p => Task.Run(async () =>
        {
            var channel = $"bench-{p % options.Channels}";
            while (watch.Elapsed < deadline)
            {
                var body = $$$"""{"channel":"{{{channel}}}","data":{"t":{{{Stopwatch.GetTimestamp()}}},"p":"{{{padding}}}"}}""";
                using var content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
                using var response = await http.PostAsync("api/publish", content);
                if (response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref acknowledged);
                }
                else
                {
                    Interlocked.Increment(ref failed);
                }
            }
        })).ToArray();
        await Task.WhenAll(publishers);
        var elapsed = watch.Elapsed;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        await Task.Delay(1000); // let the last deliveries arrive
        await stop.CancelAsync();
        await Task.WhenAll(subscribers.Select(t => t.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default)));

        var all = latencies.SelectMany(l => l).Order().ToArray();
        var expected = options.Subscribers == 0 ? 0 : acknowledged * options.Subscribers / options.Channels;
        return new Result(
            options.Engine, options.Publishers, options.Subscribers, options.Channels, options.Payload,
            Math.Round(elapsed.TotalSeconds, 2), acknowledged, failed,
            Math.Round(acknowledged / elapsed.TotalSeconds), received.Sum(), expected,
            Percentile(all, 0.50), Percentile(all, 0.99), all.Length == 0 ? 0 : Math.Round(all[^1], 2),
            Math.Round(cpu.TotalSeconds, 2), Environment.ProcessorCount, DateTimeOffset.UtcNow.ToString("u", CultureInfo.InvariantCulture));
    }

    private static async Task<Task> SubscribeAsync(int port, string channel, List<double> latencies, long[] received, int index, CancellationToken stop)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(ProtocolNames.SubprotocolV1);
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"), CancellationToken.None);
        await SendAsync(socket, """{"id":1,"method":"connect"}""");
        await SendAsync(socket, $$$"""{"id":2,"method":"subscribe","params":{"channel":"{{{channel}}}"}}""");
        return Task.Run(async () =>
        {
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
                    } while (!result.EndOfMessage);
                    var now = Stopwatch.GetTimestamp();
                    using var document = JsonDocument.Parse(buffer.AsMemory(0, count));
                    if (document.RootElement.TryGetProperty("push", out var push) && push.GetString() == "pub")
                    {
                        var sent = document.RootElement.GetProperty("data").GetProperty("t").GetInt64();
                        latencies.Add(Stopwatch.GetElapsedTime(sent, now).TotalMilliseconds);
                        received[index]++;
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (WebSocketException)
            {
            }
            finally
            {
                socket.Abort();
                socket.Dispose();
            }
        });
    }

    private static Task SendAsync(ClientWebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : Math.Round(sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))], 2);

    private sealed record Result(
        string Engine, int Publishers, int Subscribers, int Channels, int PayloadBytes,
        double Seconds, long Acknowledged, long Failed, double PublishesPerSecond, long Delivered, long ExpectedDeliveries,
        double LatencyP50Ms, double LatencyP99Ms, double LatencyMaxMs, double ProcessCpuSeconds, int Cores, string Date);

    private sealed record Options(string Engine, int Publishers, int Subscribers, int Channels, int Seconds, int Payload)
    {
        public static Options? Parse(string[] args)
        {
            var o = new Options("memory", 8, 4, 4, 10, 100);
            for (var i = 0; i + 1 < args.Length; i += 2)
            {
                var value = args[i + 1];
                o = args[i] switch
                {
                    "--engine" when value is "memory" or "sqlite" => o with { Engine = value },
                    "--publishers" => o with { Publishers = Math.Clamp(int.Parse(value, CultureInfo.InvariantCulture), 1, 256) },
                    "--subscribers" => o with { Subscribers = Math.Clamp(int.Parse(value, CultureInfo.InvariantCulture), 0, 10_000) },
                    "--channels" => o with { Channels = Math.Clamp(int.Parse(value, CultureInfo.InvariantCulture), 1, 10_000) },
                    "--seconds" => o with { Seconds = Math.Clamp(int.Parse(value, CultureInfo.InvariantCulture), 1, 120) },
                    "--payload" => o with { Payload = Math.Clamp(int.Parse(value, CultureInfo.InvariantCulture), 40, 60_000) },
                    _ => null!,
                };
                if (o is null)
                {
                    return null;
                }
            }
            return args.Length % 2 == 0 ? o : null;
        }
    }
}
