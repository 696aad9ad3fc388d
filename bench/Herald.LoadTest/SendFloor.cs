using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Herald.LoadTest;

/// <summary>
/// The floor under a broadcast's CPU per delivery on this machine: no Herald at all. This process accepts N loopback
/// TCP connections from a child process (the sink, which only reads), then at a fixed rate writes one ~100-byte
/// WebSocket text frame to every connection with one non-blocking <c>send</c> each, split over a few threads, exactly
/// the system calls Herald makes per recipient of a broadcast. It reports its own CPU time per send: what the kernel
/// charges for one un-coalesced frame (on loopback the sender's call also runs the receiver's TCP input path), plus a
/// loop. Herald's CPU per delivery minus this is Herald's own share.
/// </summary>
internal static class SendFloor
{
    public sealed record Options(int Connections, int Rate, int Seconds, int Payload, int Threads);

    public sealed record Result(
        int Connections, int RoundsPerSecond, int Rounds, int Threads, int FrameBytes, long Sends, long WouldBlock,
        double SendSeconds, double SenderCpuSeconds, double SenderCpuMicrosecondsPerSend,
        double RoundMillisecondsP50, double RoundMillisecondsP99, long SinkReceivedBytes, long SinkExpectedBytes,
        double SinkCpuSeconds, double SinkCpuMicrosecondsPerFrame, string Date);

    public static async Task<Result> RunAsync(Options options)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(4096);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var frame = new byte[options.Payload + 2];
        frame[0] = 0x81; // FIN + text
        frame[1] = (byte)options.Payload; // payload < 126
        frame.AsSpan(2).Fill((byte)'x');
        var rounds = options.Rate * options.Seconds;
        var expected = (long)options.Connections * rounds * frame.Length;

        using var sink = StartSink(port, options.Connections, expected);
        var sockets = new Socket[options.Connections];
        for (var i = 0; i < sockets.Length; i++)
        {
            sockets[i] = await listener.AcceptAsync();
            sockets[i].NoDelay = true;
            sockets[i].Blocking = false;
        }
        var ready = await sink.StandardOutput.ReadLineAsync();
        if (ready != "connected")
        {
            throw new InvalidOperationException($"the sink did not connect: {ready}");
        }

        long sends = 0, wouldBlock = 0;
        var roundTimes = new List<double>(rounds);
        var slices = Enumerable.Range(0, options.Threads)
            .Select(t => sockets.Where((_, i) => i % options.Threads == t).ToArray()).ToArray();
        var self = Process.GetCurrentProcess();
        self.Refresh();
        var cpuBefore = self.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var interval = TimeSpan.FromSeconds(1.0 / options.Rate);
        for (var round = 0; round < rounds; round++)
        {
            var due = interval * round;
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                Thread.Sleep(wait);
            }
            var started = Stopwatch.GetTimestamp();
            Parallel.For(0, slices.Length, new ParallelOptions { MaxDegreeOfParallelism = options.Threads }, t =>
            {
                long sent = 0, blocked = 0;
                foreach (var socket in slices[t])
                {
                    var n = socket.Send(frame, SocketFlags.None, out var error);
                    if (error == SocketError.WouldBlock || n < frame.Length)
                    {
                        blocked++;
                        socket.Blocking = true; // rare: finish this frame the slow way so the sink's count stays exact
                        socket.Send(frame, n, frame.Length - n, SocketFlags.None);
                        socket.Blocking = false;
                    }
                    sent++;
                }
                Interlocked.Add(ref sends, sent);
                Interlocked.Add(ref wouldBlock, blocked);
            });
            roundTimes.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        var sendSeconds = clock.Elapsed.TotalSeconds;
        self.Refresh();
        var cpu = self.TotalProcessorTime - cpuBefore;

        sink.StandardInput.Close(); // the sink waits for every byte (or 10 s), then reports
        var report = (await sink.StandardOutput.ReadLineAsync() ?? "").Split(' ');
        await sink.WaitForExitAsync();
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }
        var received = report.Length == 2 ? long.Parse(report[0], CultureInfo.InvariantCulture) : -1;
        var sinkCpu = report.Length == 2 ? double.Parse(report[1], CultureInfo.InvariantCulture) : -1;
        roundTimes.Sort();
        return new Result(
            options.Connections, options.Rate, rounds, options.Threads, frame.Length, sends, wouldBlock,
            Math.Round(sendSeconds, 2), Math.Round(cpu.TotalSeconds, 2), Math.Round(cpu.TotalMilliseconds * 1000 / sends, 2),
            Math.Round(roundTimes[roundTimes.Count / 2], 2), Math.Round(roundTimes[Math.Min(roundTimes.Count - 1, roundTimes.Count * 99 / 100)], 2),
            received, expected, sinkCpu, Math.Round(sinkCpu * 1_000_000 / Math.Max(1, sends), 2),
            DateTimeOffset.UtcNow.ToString("u", CultureInfo.InvariantCulture));
    }

    private static Process StartSink(int port, int connections, long expected)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
        {
            start.ArgumentList.Add(typeof(SendFloor).Assembly.Location);
        }
        foreach (var argument in new[] { "sendfloor-sink", port.ToString(CultureInfo.InvariantCulture), connections.ToString(CultureInfo.InvariantCulture), expected.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }
        return Process.Start(start) ?? throw new InvalidOperationException("could not start the sink");
    }

    /// <summary>The child: connects, reads everything, and when its input closes reports bytes read and its CPU time since connecting.</summary>
    public static async Task<int> SinkAsync(string[] args)
    {
        var port = int.Parse(args[0], CultureInfo.InvariantCulture);
        var connections = int.Parse(args[1], CultureInfo.InvariantCulture);
        var expected = long.Parse(args[2], CultureInfo.InvariantCulture);
        long received = 0;
        var sockets = new Socket[connections];
        for (var i = 0; i < connections; i++)
        {
            sockets[i] = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await sockets[i].ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        }
        var readers = sockets.Select(socket => Task.Run(async () =>
        {
            var buffer = new byte[4096];
            try
            {
                int n;
                while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None)) > 0)
                {
                    Interlocked.Add(ref received, n);
                }
            }
            catch (SocketException)
            {
            }
        })).ToArray();
        var cpuStart = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        Console.WriteLine("connected");
        await Console.In.ReadToEndAsync();
        var deadline = Stopwatch.StartNew();
        while (Interlocked.Read(ref received) < expected && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }
        var cpu = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds - cpuStart;
        Console.WriteLine($"{Interlocked.Read(ref received)} {cpu.ToString("F2", CultureInfo.InvariantCulture)}");
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }
        await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default);
        return 0;
    }
}
