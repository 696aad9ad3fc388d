using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Herald.Testing;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port, without persistence unless asked, in a folder of its own; stopped (killed, as
/// a crash would) and started again on the same port when a test asks.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly ConcurrentQueue<string> _output = new();
    private Process? _process;

    private readonly bool _durable;

    private RedisServer(string executable, int port, bool durable)
    {
        Executable = executable;
        Port = port;
        _durable = durable;
    }

    public string Executable { get; }

    public int Port { get; private set; }

    /// <summary>The address to give the engine.</summary>
    public string Address => $"127.0.0.1:{Port}";

    /// <summary>What the server printed, for failure messages.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>
    /// Starts a server on a free port; fails with a clear message when <c>redis-server</c> is not installed. A
    /// <paramref name="durable"/> one writes every change to its append-only file before answering (appendfsync always),
    /// so a kill loses nothing it acknowledged and a restart brings its data back.
    /// </summary>
    public static async Task<RedisServer> StartAsync(bool durable = false)
    {
        var executable = Find() ?? throw new InvalidOperationException(
            "redis-server is not installed, so the Redis engine tests cannot run. Install it (Debian/Ubuntu: " +
            "`apt-get install -y redis-server`; test.sh does this) or put it on the PATH.");
        for (var attempt = 1; ; attempt++)
        {
            var server = new RedisServer(executable, FreePorts.Tcp(), durable);
            try
            {
                await server.StartAsync(Timeouts.Default).ConfigureAwait(false);
                return server;
            }
            catch (InvalidOperationException) when (attempt < 5)
            {
                // Another process took the port between our probe and the server's bind: try another.
                await server.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Kills the server at once, as a crash would; its data is gone unless it is durable.</summary>
    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
            await process.WaitForExitAsync().WaitAsync(Timeouts.Default).ConfigureAwait(false);
            process.Dispose();
        }
    }

    /// <summary>Starts the server again on the same port, empty (or with its data, when durable).</summary>
    public Task RestartAsync() => StartAsync(Timeouts.Default);

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _directory.Dispose();
    }

    private async Task StartAsync(TimeSpan timeout)
    {
        var start = new ProcessStartInfo(Executable)
        {
            WorkingDirectory = _directory.Path,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                     "--save", "", "--appendonly", _durable ? "yes" : "no", "--appendfsync", "always", "--dir", _directory.Path, "--daemonize", "no" })
        {
            start.ArgumentList.Add(argument);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {Executable}");
        process.OutputDataReceived += (_, e) => Record(e.Data);
        process.ErrorDataReceived += (_, e) => Record(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var deadline = DateTime.UtcNow + timeout;
        while (!await AnswersPingAsync().ConfigureAwait(false))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                await StopAsync().ConfigureAwait(false);
                throw new InvalidOperationException($"redis-server did not answer PING on {Address} (exited: {process.HasExited}). Its output:\n{Output}");
            }
            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    private void Record(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }

    private async Task<bool> AnswersPingAsync()
    {
        try
        {
            using var client = new TcpClient();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await client.ConnectAsync(IPAddress.Loopback, Port, timeout.Token).ConfigureAwait(false);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), timeout.Token).ConfigureAwait(false);
            var buffer = new byte[64];
            var read = await stream.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception error) when (error is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    private static string? Find()
    {
        var directories = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/bin", "/usr/local/bin", "/usr/sbin", "/opt/homebrew/bin"]);
        return directories.Select(d => Path.Combine(d, "redis-server")).FirstOrDefault(File.Exists);
    }
}
