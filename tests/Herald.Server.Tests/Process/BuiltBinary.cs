using System.Diagnostics;
using System.Text;

namespace Herald.Server.Tests.Process;

/// <summary>
/// The binary users download: <c>./build.sh linux-x64</c> run once for the test class into a temporary folder (its
/// intermediate files too, so the tree's bin/ and obj/ are neither read nor written), or the binary named by
/// <c>HERALD_BINARY</c> when set (to test a binary built elsewhere). Building takes a minute or two.
/// </summary>
public sealed class BuiltBinary : IAsyncLifetime
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(8);
    private readonly TempDirectory _directory = new();

    /// <summary>The path of the <c>herald</c> executable.</summary>
    public string Path { get; private set; } = "";

    /// <summary>The commit the build stamped (<c>git rev-parse HEAD</c>, "-dirty" with uncommitted changes), empty without git.</summary>
    public string ExpectedCommit { get; private set; } = "";

    /// <summary>The folder holding Herald.slnx, found by walking up from the test's output folder.</summary>
    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "Herald.slnx")))
            {
                return directory.FullName;
            }
        }
        throw new DirectoryNotFoundException($"no Herald.slnx above {AppContext.BaseDirectory}");
    }

    public async Task InitializeAsync()
    {
        var given = Environment.GetEnvironmentVariable("HERALD_BINARY");
        if (!string.IsNullOrEmpty(given))
        {
            Path = given;
            Assert.True(File.Exists(Path), $"HERALD_BINARY names {Path}, which does not exist");
            return;
        }
        var root = RepositoryRoot();
        var head = await RunAsync("git", ["rev-parse", "HEAD"], root, new Dictionary<string, string>(), TimeSpan.FromSeconds(30));
        if (head.ExitCode == 0)
        {
            var dirty = await RunAsync("git", ["diff", "--quiet", "HEAD", "--"], root, new Dictionary<string, string>(), TimeSpan.FromSeconds(30));
            ExpectedCommit = head.Stdout.Trim() + (dirty.ExitCode == 0 ? "" : "-dirty");
        }
        var dist = System.IO.Path.Combine(_directory.Path, "dist");
        var build = await RunAsync("bash", [System.IO.Path.Combine(root, "build.sh"), "linux-x64"], root, new Dictionary<string, string>
        {
            ["HERALD_DIST"] = dist,
            ["HERALD_BUILD_ARTIFACTS"] = System.IO.Path.Combine(_directory.Path, "artifacts"),
        }, BuildTimeout);
        Assert.True(build.ExitCode == 0, "./build.sh linux-x64 failed\n" + build);
        Path = System.IO.Path.Combine(dist, "herald-linux-x64", "herald");
        Assert.True(File.Exists(Path), $"./build.sh did not produce {Path}\n{build}");
        var others = Directory.GetFileSystemEntries(System.IO.Path.GetDirectoryName(Path)!).Select(System.IO.Path.GetFileName).Where(n => n != "herald").ToList();
        Assert.True(others.Count == 0, "dist/herald-linux-x64 must hold the one executable, found also: " + string.Join(", ", others));
    }

    public Task DisposeAsync()
    {
        _directory.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Runs a command to its end (bounded), without the test runner's MSBuild variables.</summary>
    public static async Task<HeraldProcess.ProcessResult> RunAsync(string file, IEnumerable<string> args, string workingDirectory,
        IReadOnlyDictionary<string, string> environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        // dotnet test's MSBuild settings must not leak into this separate build.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k == "VSTEST_HOST_DEBUG").ToList())
        {
            start.Environment.Remove(name);
        }
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        using var process = new System.Diagnostics.Process { StartInfo = start };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (stdout) { stdout.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (stderr) { stderr.AppendLine(e.Data); } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout}\n{stdout}\n{stderr}");
        }
        lock (stdout)
        {
            lock (stderr)
            {
                return new HeraldProcess.ProcessResult(process.ExitCode, stdout.ToString(), stderr.ToString());
            }
        }
    }
}
