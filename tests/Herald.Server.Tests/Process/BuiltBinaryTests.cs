using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Herald.Server.Tests.Process;

/// <summary>
/// The binary of <c>./build.sh</c> (dist/herald-linux-x64/herald) runs where no .NET is installed: no dotnet on the
/// PATH, no DOTNET_ROOT, a home of its own. It answers <c>--help</c> and <c>version</c>, serves with the SQLite store
/// (whose native library travels inside the one file), delivers a publish over WebSocket, carries the tuned GC budget
/// in itself, and answers the Dockerfile's HEALTHCHECK command.
/// </summary>
[Trait("Category", "Slow")]
public sealed class BuiltBinaryTests(BuiltBinary binary) : IClassFixture<BuiltBinary>
{
    [Fact]
    public async Task Help_lists_every_command()
    {
        using var home = new TempDirectory();
        var result = await RunAsync(["--help"], home);

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var command in new[] { "serve", "config", "token", "version" })
        {
            Assert.Matches($@"(?m)^\s+{command}\s", result.Stdout);
        }
    }

    [Fact]
    public async Task Version_names_the_commit_it_was_built_from_the_runtime_inside_it_and_the_single_file_flavour()
    {
        using var home = new TempDirectory();
        var result = await RunAsync(["version"], home);

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split(' ', 2, StringSplitOptions.TrimEntries))
            .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "");
        Assert.Equal(Herald.Core.ServerInfo.Version, lines["herald"]);
        if (binary.ExpectedCommit.Length > 0)
        {
            Assert.Equal(binary.ExpectedCommit, lines["commit"]);
        }
        Assert.Matches(@"^[0-9a-f]{40}(-dirty)?$", lines["commit"]);
        Assert.StartsWith(".NET 10.", lines["runtime"], StringComparison.Ordinal);
        Assert.Contains("linux-x64", lines["runtime"], StringComparison.Ordinal);
        // The young-generation cap that keeps idle connections cheap ships in the binary, with no environment set.
        Assert.Contains("gen0 budget cap 4194304 bytes", lines["runtime"], StringComparison.Ordinal);
        Assert.Equal("single-file", lines["build"]);
    }

    [Fact]
    public async Task Serve_stores_in_sqlite_answers_health_and_delivers_publishes_over_websocket()
    {
        using var home = new TempDirectory();
        await using var herald = Start(["serve", "--host", "127.0.0.1", "--port", "0", "--udp-port", "0"], home);
        var listening = await herald.WaitForListeningAsync(TimeSpan.FromSeconds(30));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{listening.HttpPort}/"), Timeout = Timeouts.Default };

        using var health = await http.GetAsync("health").DefaultTimeout();
        var healthJson = await TestServer.JsonAsync(health);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("ok", healthJson.GetProperty("status").GetString());
        Assert.Equal("sqlite", healthJson.GetProperty("engine").GetString());
        Assert.True(File.Exists(Path.Combine(herald.WorkingDirectory, "data", "herald.db")), "the SQLite database must be in ./data");

        // A plain client, targeted by attributes.
        await using var plain = await WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{listening.HttpPort}/"));
        await plain.SendAsync("""{"school_id":"2"}""");
        await plain.SendAsync("ping");
        Assert.Equal("pong", await plain.ReceiveAsync());
        using (var published = await PublishAsync(http, """{"where":{"school_id":"2"},"data":{"order":42}}"""))
        {
            Assert.Equal(1, (await TestServer.JsonAsync(published)).GetProperty("recipients").GetInt32());
        }
        Assert.Equal("""{"order":42}""", await plain.ReceiveAsync());

        // A native client on a channel with history: the publication is stored in SQLite (it gets an offset) and pushed.
        await using var native = await WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{listening.HttpPort}/"), "herald.v1");
        Assert.True((await TestServer.CallAsync(native, 1, "connect")).TryGetProperty("result", out _));
        Assert.True((await TestServer.CallAsync(native, 2, "subscribe", """{"channel":"news"}""")).TryGetProperty("result", out _));
        using (var stored = await PublishAsync(http, """{"channel":"news","data":{"headline":"binary"}}"""))
        {
            var reply = await TestServer.JsonAsync(stored);
            Assert.True(stored.StatusCode == HttpStatusCode.OK, reply.ToString());
            Assert.Equal(1, reply.GetProperty("offset").GetInt64());
        }
        var push = await native.ReceiveJsonAsync();
        Assert.Equal("news", push.GetProperty("channel").GetString());
        Assert.Equal(1, push.GetProperty("offset").GetInt64());
        Assert.Equal("binary", push.GetProperty("data").GetProperty("headline").GetString());

        herald.Terminate();
        Assert.Equal(0, await herald.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        herald.AssertNoErrorsLogged();
    }

    [Fact]
    public async Task The_Dockerfile_healthcheck_passes_while_the_binary_serves_and_fails_once_it_stopped()
    {
        var script = DockerfileHealthcheck();
        using var home = new TempDirectory();
        await using var herald = Start(["serve", "--host", "127.0.0.1", "--port", "0", "--udp-port", "0", "--memory"], home);
        var listening = await herald.WaitForListeningAsync(TimeSpan.FromSeconds(30));
        var forPort = script.Replace("6552", listening.HttpPort.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

        var healthy = await BuiltBinary.RunAsync("bash", ["-c", forPort], home.Path, new Dictionary<string, string>(), TimeSpan.FromSeconds(20));
        Assert.True(healthy.ExitCode == 0, "the HEALTHCHECK command failed against a serving Herald\n" + healthy);

        herald.Terminate();
        Assert.Equal(0, await herald.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var stopped = await BuiltBinary.RunAsync("bash", ["-c", forPort], home.Path, new Dictionary<string, string>(), TimeSpan.FromSeconds(20));
        Assert.True(stopped.ExitCode != 0, "the HEALTHCHECK command passed with nothing listening\n" + stopped);
    }

    /// <summary>The bash script of the Dockerfile's <c>HEALTHCHECK ... CMD ["bash", "-c", "..."]</c>.</summary>
    private static string DockerfileHealthcheck()
    {
        var dockerfile = File.ReadAllText(Path.Combine(BuiltBinary.RepositoryRoot(), "Dockerfile")).Replace("\\\n", " ", StringComparison.Ordinal);
        var match = Regex.Match(dockerfile, @"(?m)^HEALTHCHECK .*?CMD (\[.*\])\s*$");
        Assert.True(match.Success, "no HEALTHCHECK ... CMD [...] in the Dockerfile");
        var command = JsonSerializer.Deserialize<string[]>(match.Groups[1].Value)!;
        Assert.Equal(["bash", "-c"], command[..2]);
        return command[2];
    }

    /// <summary>No .NET reachable: an empty PATH folder, no DOTNET_ROOT, a fresh home for the unpacked native library.</summary>
    private static Dictionary<string, string> WithoutDotnet(TempDirectory home) => new()
    {
        ["PATH"] = Directory.CreateDirectory(Path.Combine(home.Path, "empty-path")).FullName,
        ["DOTNET_ROOT"] = Path.Combine(home.Path, "no-dotnet"),
        ["HOME"] = home.Path,
        ["DOTNET_BUNDLE_EXTRACT_BASE_DIR"] = Path.Combine(home.Path, "bundle"),
    };

    private HeraldProcess Start(string[] args, TempDirectory home) =>
        HeraldProcess.Start(args, environment: WithoutDotnet(home), executable: binary.Path);

    private async Task<HeraldProcess.ProcessResult> RunAsync(string[] args, TempDirectory home)
    {
        await using var herald = Start(args, home);
        var exitCode = await herald.WaitForExitAsync(TimeSpan.FromSeconds(30));
        return new HeraldProcess.ProcessResult(exitCode, herald.Stdout, herald.Stderr);
    }

    private static async Task<HttpResponseMessage> PublishAsync(HttpClient http, string body) =>
        await http.PostAsync("api/publish", new StringContent(body, Encoding.UTF8, "application/json")).DefaultTimeout();
}
