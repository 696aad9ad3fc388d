using System.Globalization;

namespace Herald.LoadTest;

/// <summary>Reads a server process's memory and CPU time from /proc, and the kernel's UDP receive-buffer drops.</summary>
internal static class ServerProcess
{
    /// <summary>
    /// Resident set size (VmRSS), proportional set size (Pss) and its anonymous part (Pss_Anon) in KiB. Pss shares
    /// file pages (the .NET runtime's libraries) among the processes that map them, so it moves when another .NET
    /// process starts or exits; Pss_Anon is the process's own heap and stacks, the figure to watch over a soak.
    /// </summary>
    public static (long RssKiB, long PssKiB, long PssAnonKiB) Memory(int pid)
    {
        long rss = 0, pss = 0, anon = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = Kib(line);
            }
        }
        var rollup = $"/proc/{pid}/smaps_rollup";
        if (File.Exists(rollup))
        {
            foreach (var line in File.ReadLines(rollup))
            {
                if (line.StartsWith("Pss:", StringComparison.Ordinal))
                {
                    pss = Kib(line);
                }
                else if (line.StartsWith("Pss_Anon:", StringComparison.Ordinal))
                {
                    anon = Kib(line);
                }
            }
        }
        return (rss, pss, anon);
    }

    /// <summary>User + system CPU time of the process.</summary>
    public static TimeSpan CpuTime(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ is 100 on Linux
    }

    /// <summary>The kernel's count of UDP datagrams dropped for a full receive buffer (all sockets).</summary>
    public static long UdpReceiveBufferErrors()
    {
        var lines = File.ReadAllLines("/proc/net/snmp").Where(l => l.StartsWith("Udp:", StringComparison.Ordinal)).ToArray();
        var names = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var values = lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var index = Array.IndexOf(names, "RcvbufErrors");
        return index < 0 ? 0 : long.Parse(values[index], CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The kernel's drop count of the UDP socket bound to <paramref name="port"/> (last column of /proc/net/udp and
    /// /proc/net/udp6): datagrams that did not fit its receive buffer.
    /// </summary>
    public static long UdpSocketDrops(int port)
    {
        var suffix = ":" + port.ToString("X4", CultureInfo.InvariantCulture);
        long drops = 0;
        foreach (var file in new[] { "/proc/net/udp", "/proc/net/udp6" })
        {
            if (!File.Exists(file))
            {
                continue;
            }
            foreach (var line in File.ReadLines(file).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 2 && fields[1].EndsWith(suffix, StringComparison.Ordinal))
                {
                    drops += long.Parse(fields[^1], CultureInfo.InvariantCulture);
                }
            }
        }
        return drops;
    }

    private static long Kib(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);

    /// <summary>
    /// The machine's load average over 1, 5 and 15 minutes (<c>/proc/loadavg</c>): on a shared machine, the figure to
    /// record beside each run.
    /// </summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "";
}
