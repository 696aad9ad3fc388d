using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Herald.LoadTest;

/// <summary>
/// Whole-server load against a running Herald (given its pid): opens N plain, native or Pusher WebSocket connections
/// (<see cref="LoadProtocol"/>) concurrently, spread round-robin over source addresses 127.0.0.1–127.0.0.16 (so N may
/// exceed one address's ephemeral ports), each in one of ten groups (plain: the attribute <c>g</c>; native and Pusher:
/// the channel <c>gN</c> beside <c>load</c>); measures connect time and the server's memory per connection; then sends
/// UDP publishes at a fixed rate for a fixed time, to everyone or to one group in ten, and measures publish-to-deliver
/// latency from a timestamp in the payload, loss, connections shed as slow consumers, server CPU per delivered message
/// and kernel UDP drops. Loopback only; bounded in count and time.
/// </summary>
internal static class FanoutLoad
{
    private const int SourceAddresses = 16;

    public sealed record Options(
        int Port, int UdpPort, int Pid, int Connections, int Rate, int Seconds, bool OneInTen, int Parallel, int IdleSeconds,
        LoadProtocol Protocol = LoadProtocol.Plain, string AppKey = "load-key");

    public static async Task<object> RunAsync(Options options)
    {
        var (rssBefore, pssBefore, anonBefore) = ServerProcess.Memory(options.Pid);
        var clients = new RawWebSocketClient[options.Connections];
        var expectedPerPublish = options.OneInTen ? (options.Connections + 6) / 10 : options.Connections;
        var latencies = new LatencyRecorder((long)options.Rate * options.Seconds * expectedPerPublish + 1024);
        var connectCpuBefore = ServerProcess.CpuTime(options.Pid);
        var watch = Stopwatch.StartNew();
        var next = -1;
        // A fixed number of connect loops, each opening one connection after another.
        await Task.WhenAll(Enumerable.Range(0, options.Parallel).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < options.Connections)
            {
                var source = new IPAddress(new byte[] { 127, 0, 0, (byte)(1 + i % SourceAddresses) });
                clients[i] = await RawWebSocketClient.ConnectAsync(source, options.Port, i % 10, latencies, options.Protocol, options.OneInTen, options.AppKey);
            }
        })));
        var connectSeconds = watch.Elapsed.TotalSeconds;
        // Wait until the server has applied every connection's attributes (or 10 s), then let it settle.
        var settle = Stopwatch.StartNew();
        while ((await ServerCounters.ReadAsync(options.Port)).Connections < options.Connections && settle.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(100);
        }
        // Native and Pusher clients: until the server confirmed every subscription (or 10 s more).
        while (clients.Any(c => !c.Ready && !c.ClosedByServer) && settle.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(100);
        }
        var subscribedSeconds = watch.Elapsed.TotalSeconds;
        // What accepting, upgrading and subscribing cost the server, per connection (it also includes the /api/info polls).
        var connectCpu = ServerProcess.CpuTime(options.Pid) - connectCpuBefore;
        await Task.Delay(2000);
        var (rssIdle, pssIdle, anonIdle) = ServerProcess.Memory(options.Pid);
        // An idle soak: the connections stay open (plain clients answer the server's pings) and memory is sampled.
        var soak = new List<object>();
        var soakWatch = Stopwatch.StartNew();
        while (soakWatch.Elapsed.TotalSeconds < options.IdleSeconds)
        {
            await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, options.IdleSeconds - soakWatch.Elapsed.TotalSeconds)));
            var (rss, pss, anon) = ServerProcess.Memory(options.Pid);
            var open = (await ServerCounters.ReadAsync(options.Port)).Connections;
            // Pings the clients got so far: they keep growing by connections / ping_interval per second while keep-alive works.
            var pings = clients.Sum(c => Interlocked.Read(ref c.Pings));
            soak.Add(new { Second = (int)soakWatch.Elapsed.TotalSeconds, RssKiB = rss, PssKiB = pss, PssAnonKiB = anon, Connections = open, PingsAnswered = pings });
        }

        var loadBefore = ServerProcess.LoadAverage();
        var countersBefore = await ServerCounters.ReadAsync(options.Port);
        var cpuBefore = ServerProcess.CpuTime(options.Pid);
        var ownCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var dropsBefore = ServerProcess.UdpReceiveBufferErrors();
        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        udp.Connect(new IPEndPoint(IPAddress.Loopback, options.UdpPort));
        var total = options.Rate * options.Seconds;
        // Plain clients are reached by their attribute, native and Pusher clients by the channels they subscribed.
        var target = options.Protocol == LoadProtocol.Plain
            ? (options.OneInTen ? "\"where\":{\"g\":\"3\"}" : "\"where\":{}")
            : (options.OneInTen ? "\"channel\":\"g3\"" : "\"channel\":\"load\"");
        var body = new byte[512];
        var start = Stopwatch.GetTimestamp();
        var sent = 0;
        while (sent < total)
        {
            // Send whatever is due (a burst when the timer woke late), then sleep a millisecond.
            var due = Math.Min(total, (long)(Stopwatch.GetElapsedTime(start).TotalSeconds * options.Rate) + 1);
            for (; sent < due; sent++)
            {
                var length = Encoding.UTF8.GetBytes(
                    $"{{{target},\"data\":{{\"t\":{Stopwatch.GetTimestamp()},\"n\":{sent},\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}}}", body);
                udp.Send(body.AsSpan(0, length));
            }
            Thread.Sleep(1);
        }
        var sendSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        await Task.Delay(3000); // the last deliveries
        var cpu = ServerProcess.CpuTime(options.Pid) - cpuBefore;
        var ownCpu = Process.GetCurrentProcess().TotalProcessorTime - ownCpuBefore;
        var drops = ServerProcess.UdpReceiveBufferErrors() - dropsBefore;
        var countersAfter = await ServerCounters.ReadAsync(options.Port);

        var delivered = latencies.Count;
        var shed = clients.Count(c => c.ClosedByServer);
        var expected = (long)total * (options.OneInTen ? clients.Count(c => c.Group == 3) : clients.Length);
        foreach (var client in clients)
        {
            client.Dispose();
        }
        return new
        {
            Mode = options.OneInTen ? "targeted (1 in 10)" : "broadcast",
            Protocol = options.Protocol.ToString().ToLowerInvariant(),
            options.Connections,
            ConnectSeconds = Math.Round(connectSeconds, 2),
            SubscribedSeconds = Math.Round(subscribedSeconds, 2),
            ServerCpuMicrosecondsPerConnect = Math.Round(connectCpu.TotalMilliseconds * 1000 / options.Connections, 1),
            ClientsNotReady = clients.Count(c => !c.Ready),
            Refusals = clients.Sum(c => c.Refusals),
            FirstRefusal = clients.Select(c => c.FirstRefusal).FirstOrDefault(r => r is not null),
            ConnectParallel = options.Parallel,
            ServerRssKiB = new { Before = rssBefore, Idle = rssIdle },
            ServerPssKiB = new { Before = pssBefore, Idle = pssIdle },
            ServerPssAnonKiB = new { Before = anonBefore, Idle = anonIdle },
            ServerKiBPerConnection = new
            {
                Rss = Math.Round((rssIdle - rssBefore) / (double)options.Connections, 2),
                Pss = Math.Round((pssIdle - pssBefore) / (double)options.Connections, 2),
                PssAnon = Math.Round((anonIdle - anonBefore) / (double)options.Connections, 2),
            },
            IdleSoak = soak,
            PublishesPerSecond = options.Rate,
            Publishes = total,
            SendSeconds = Math.Round(sendSeconds, 2),
            ServerPublishesRouted = countersAfter.Publishes - countersBefore.Publishes,
            ServerDeliveriesQueued = countersAfter.Deliveries - countersBefore.Deliveries,
            Delivered = delivered,
            Expected = expected,
            ConnectionsShedAsSlowConsumers = countersAfter.SlowConsumers - countersBefore.SlowConsumers,
            ConnectionsClosedByServer = shed,
            // Close code -> connections (0: the connection dropped without a close frame), e.g. 4001 stale, 4002 slow consumer.
            ServerCloseCodes = clients.Where(c => c.ClosedByServer).GroupBy(c => c.CloseCode)
                .ToDictionary(g => g.Key.ToString(CultureInfo.InvariantCulture), g => g.Count()),
            LatencyMs = latencies.Summary(),
            ServerCpuSeconds = Math.Round(cpu.TotalSeconds, 2),
            ServerCpuMicrosecondsPerDelivery = delivered == 0 ? 0 : Math.Round(cpu.TotalMilliseconds * 1000 / delivered, 2),
            LoadToolCpuSeconds = Math.Round(ownCpu.TotalSeconds, 2),
            KernelUdpRcvbufErrors = drops,
            LoadAverage = new { BeforePublishing = loadBefore, After = ServerProcess.LoadAverage() },
            Date = DateTimeOffset.UtcNow.ToString("u", CultureInfo.InvariantCulture),
        };
    }
}
