using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Herald.LoadTest;

/// <summary>
/// UDP ingress alone against a running Herald: fires publish datagrams whose <c>where</c> matches nobody at stepped
/// rates, a few seconds each, and reports per step what the server parsed and routed (its <c>publishes</c> counter),
/// the kernel's drops (RcvbufErrors in /proc/net/snmp, and the drop count of the server's socket in /proc/net/udp)
/// and the server's CPU time. Loopback only; bounded in time.
/// </summary>
internal static class UdpIngressLoad
{
    public sealed record Options(int Port, int UdpPort, int Pid, int[] Rates, int Seconds, int Senders);

    public static async Task<object> RunAsync(Options options)
    {
        var steps = new List<object>();
        foreach (var rate in options.Rates)
        {
            var before = await ServerCounters.ReadAsync(options.Port);
            var cpuBefore = ServerProcess.CpuTime(options.Pid);
            var dropsBefore = ServerProcess.UdpReceiveBufferErrors();
            var socketDropsBefore = ServerProcess.UdpSocketDrops(options.UdpPort);
            var watch = Stopwatch.StartNew();
            var perSender = rate / options.Senders;
            var sent = new long[options.Senders];
            var threads = Enumerable.Range(0, options.Senders).Select(s => new Thread(() => sent[s] = Send(options.UdpPort, perSender, options.Seconds, s))).ToArray();
            foreach (var thread in threads)
            {
                thread.Start();
            }
            foreach (var thread in threads)
            {
                thread.Join();
            }
            var sendSeconds = watch.Elapsed.TotalSeconds;
            // Routed catches up with what is queued in the socket buffer within a moment once sending stops.
            ServerCounters after;
            var total = sent.Sum();
            var wait = Stopwatch.StartNew();
            do
            {
                await Task.Delay(200);
                after = await ServerCounters.ReadAsync(options.Port);
            }
            while (after.Publishes - before.Publishes < total && wait.Elapsed < TimeSpan.FromSeconds(3));
            var cpu = ServerProcess.CpuTime(options.Pid) - cpuBefore;
            var routed = after.Publishes - before.Publishes;
            steps.Add(new
            {
                TargetPerSecond = rate,
                Sent = total,
                SentPerSecond = Math.Round(total / sendSeconds),
                Routed = routed,
                RoutedPerSecond = Math.Round(routed / sendSeconds),
                KernelRcvbufErrors = ServerProcess.UdpReceiveBufferErrors() - dropsBefore,
                ServerSocketDrops = ServerProcess.UdpSocketDrops(options.UdpPort) - socketDropsBefore,
                ServerCpuSeconds = Math.Round(cpu.TotalSeconds, 2),
                ServerCpuMicrosecondsPerDatagram = routed == 0 ? 0 : Math.Round(cpu.TotalMilliseconds * 1000 / routed, 2),
            });
            await Task.Delay(1000);
        }
        return new
        {
            Mode = "udp ingress (where matching nobody)",
            options.Seconds,
            options.Senders,
            Steps = steps,
            Date = DateTimeOffset.UtcNow.ToString("u", CultureInfo.InvariantCulture),
        };
    }

    /// <summary>Sends <paramref name="rate"/> datagrams a second for <paramref name="seconds"/>, in bursts each millisecond.</summary>
    private static long Send(int port, int rate, int seconds, int sender)
    {
        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        udp.Connect(new IPEndPoint(IPAddress.Loopback, port));
        var body = Encoding.UTF8.GetBytes(
            $"{{\"where\":{{\"g\":\"nobody\"}},\"data\":{{\"t\":{Stopwatch.GetTimestamp()},\"s\":{sender},\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}}}");
        var total = (long)rate * seconds;
        var start = Stopwatch.GetTimestamp();
        long sent = 0;
        while (sent < total)
        {
            var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (elapsed > seconds + 2)
            {
                break; // this machine cannot send that fast: report what went out
            }
            var due = Math.Min(total, (long)(elapsed * rate) + 1);
            for (; sent < due; sent++)
            {
                udp.Send(body);
            }
            Thread.Sleep(0);
        }
        return sent;
    }
}
