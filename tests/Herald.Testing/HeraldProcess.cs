using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Herald.Testing;

/// <summary>
/// The real <c>herald</c> executable as a child process (<c>dotnet herald.dll ...</c> from the test's output folder),
/// run in a working directory of its own so no stray <c>herald.json</c> is read, and without the test runner's
/// <c>HERALD_*</c> variables unless the test sets them. Stdout and stderr are captured line by line. Disposing kills the
/// process if it still runs (even when the test failed) and deletes the directory it owns.
/// </summary>
public sealed partial class HeraldProcess : IAsyncDisposable
{
    private const int Sigint = 2;
    private const int Sigterm = 15;

    private readonly System.Diagnostics.Process _process;
    private readonly TempDirectory? _ownedDirectory;
    private readonly OutputLines _stdout = new();
    private readonly OutputLines _stderr = new();

    private HeraldProcess(System.Diagnostics.Process process, string workingDirectory, TempDirectory? ownedDirectory)
    {
        _process = process;
        WorkingDirectory = workingDirectory;
        _ownedDirectory = ownedDirectory;
    }

    /// <summary>herald.dll next to the tests (the test project references the executable's project).</summary>
    public static string HeraldDll => Path.Combine(AppContext.BaseDirectory, "herald.dll");

    public string WorkingDirectory { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Stdout => _stdout.Text;

    public string Stderr => _stderr.Text;

    /// <summary>
    /// Starts <c>dotnet <paramref name="dll"/> args</c>, or the native <paramref name="executable"/> (the binary of
    /// <c>./build.sh</c>) when given; without <paramref name="workingDirectory"/> it gets a fresh one.
    /// </summary>
    public static HeraldProcess Start(
        IEnumerable<string> args,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null,
        string? dll = null,
        string? executable = null)
    {
        var owned = workingDirectory is null ? new TempDirectory() : null;
        var directory = workingDirectory ?? owned!.Path;
        var start = new ProcessStartInfo(executable ?? DotnetHost())
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        if (executable is null)
        {
            start.ArgumentList.Add(dll ?? HeraldDll);
        }
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("HERALD_", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = new System.Diagnostics.Process { StartInfo = start, EnableRaisingEvents = true };
        var herald = new HeraldProcess(process, directory, owned);
        process.OutputDataReceived += (_, e) => herald._stdout.Add(e.Data);
        process.ErrorDataReceived += (_, e) => herald._stderr.Add(e.Data);
        try
        {
            process.Start();
        }
        catch
        {
            process.Dispose();
            owned?.Dispose();
            throw;
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return herald;
    }

    /// <summary>Runs a command that is expected to end by itself (<c>config</c>, <c>--help</c>, a failing <c>serve</c>).</summary>
    public static async Task<ProcessResult> RunAsync(
        IEnumerable<string> args,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null,
        TimeSpan? timeout = null)
    {
        await using var herald = Start(args, workingDirectory, environment);
        var exitCode = await herald.WaitForExitAsync(timeout ?? TimeSpan.FromSeconds(20)).ConfigureAwait(false);
        return new ProcessResult(exitCode, herald.Stdout, herald.Stderr);
    }

    /// <summary>Waits for the "listening" log line and returns the ports it names.</summary>
    public async Task<Listening> WaitForListeningAsync(TimeSpan? timeout = null)
    {
        var line = await WaitForStdoutLineAsync(l => ListeningLine().IsMatch(l), "the listening line", timeout).ConfigureAwait(false);
        var match = ListeningLine().Match(line);
        var udpPort = match.Groups["udpPort"];
        return new Listening(
            line,
            int.Parse(match.Groups["httpPort"].Value, CultureInfo.InvariantCulture),
            udpPort.Success ? int.Parse(udpPort.Value, CultureInfo.InvariantCulture) : null);
    }

    /// <summary>Waits for a stdout line; fails early, with everything captured, when the process ends first.</summary>
    public async Task<string> WaitForStdoutLineAsync(Func<string, bool> predicate, string what, TimeSpan? timeout = null)
    {
        string? found = null;
        try
        {
            await Timeouts.Until(() => (found = _stdout.Find(predicate)) is not null || _process.HasExited, what, timeout).ConfigureAwait(false);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\n{Describe()}", ex);
        }
        found ??= _stdout.Find(predicate);
        return found ?? throw new InvalidOperationException($"herald exited with {_process.ExitCode} before {what}\n{Describe()}");
    }

    /// <summary>SIGKILL: the process dies at once, no shutdown code runs (what <c>kill -9</c> does).</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>Sends SIGTERM, as a service manager or <c>docker stop</c> does (Process.Kill would be SIGKILL).</summary>
    public void Terminate() => Signal(Sigterm);

    /// <summary>Sends SIGINT, as Ctrl+C in a terminal does.</summary>
    public void Interrupt() => Signal(Sigint);

    /// <summary>Waits for the process to end (and its output to be read); returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Timeouts.Default);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"herald did not exit within {(timeout ?? Timeouts.Default).TotalSeconds}s\n{Describe()}");
        }
        return _process.ExitCode;
    }

    /// <summary>Fails when the server logged at error level or above (console lines <c>fail:</c> and <c>crit:</c>).</summary>
    public void AssertNoErrorsLogged()
    {
        var errors = _stdout.Lines.Where(l => l.Contains(" fail: ", StringComparison.Ordinal) || l.Contains(" crit: ", StringComparison.Ordinal)).ToList();
        Assert.True(errors.Count == 0, "herald logged errors:\n" + string.Join("\n", errors));
    }

    /// <summary>Everything captured so far, for failure messages.</summary>
    public string Describe() => $"--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        catch (InvalidOperationException)
        {
            // it ended between the check and the kill
        }
        finally
        {
            _process.Dispose();
            _ownedDirectory?.Dispose();
        }
    }

    private void Signal(int signal)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            throw new PlatformNotSupportedException("Signals are a Unix feature; this test needs Linux or macOS.");
        }
        // dotnet runs herald.dll in its own process (the muxer hosts the runtime), so this pid is the server itself.
        if (SendSignal(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    /// <summary>The dotnet host running the tests, so the child uses the same runtime.</summary>
    public static string DotnetHost()
    {
        var fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk))
        {
            return fromSdk;
        }
        var current = Environment.ProcessPath;
        return current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }

    /// <summary><c>... listening: WebSocket and HTTP on 127.0.0.1:P, UDP ingress on 127.0.0.1:U</c> (or <c>UDP ingress disabled ...</c>).</summary>
    [GeneratedRegex(@"listening: WebSocket and HTTP on (?<http>\S+):(?<httpPort>\d+), UDP ingress (on (?<udp>\S+):(?<udpPort>\d+)|disabled)")]
    private static partial Regex ListeningLine();

    /// <summary>What the "listening" line said; no UDP port when UDP ingress is disabled.</summary>
    public sealed record Listening(string Line, int HttpPort, int? UdpPort);

    /// <summary>How a finished run ended.</summary>
    public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
    }

    private sealed class OutputLines
    {
        private readonly Lock _lock = new();
        private readonly List<string> _lines = [];

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (_lock)
                {
                    return [.. _lines];
                }
            }
        }

        public string Text => string.Join("\n", Lines);

        public void Add(string? line)
        {
            if (line is null)
            {
                return;
            }
            lock (_lock)
            {
                _lines.Add(line);
            }
        }

        public string? Find(Func<string, bool> predicate)
        {
            lock (_lock)
            {
                return _lines.FirstOrDefault(predicate);
            }
        }
    }
}
