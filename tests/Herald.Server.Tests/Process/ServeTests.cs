using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Herald.Core;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Process;

/// <summary><c>herald serve</c> as an operator runs it: flags, then clients, publishers and the log file.</summary>
public sealed class ServeTests
{
    private const string ApiKey = "process-test-key";

    [Fact]
    public async Task Serve_with_flags_answers_health_plain_clients_udp_and_http_publishes_and_writes_the_log_file()
    {
        var port = FreePorts.Tcp();
        var udpPort = FreePorts.Udp();
        using var directory = new TempDirectory();
        var logFile = Path.Combine(directory.Path, "logs", "herald.log");
        await using var herald = HeraldProcess.Start(
        [
            "serve", "--host", "127.0.0.1", "--port", Invariant(port), "--udp-port", Invariant(udpPort),
            "--api-key", ApiKey, "--log-file", logFile,
        ], directory.Path);

        var listening = await herald.WaitForListeningAsync();
        Assert.Contains($"Herald {ServerInfo.Version} listening: WebSocket and HTTP on 127.0.0.1:{port}, UDP ingress on 127.0.0.1:{udpPort}", listening.Line);

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = Timeouts.Default };
        var health = await http.GetAsync("health").DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("ok", (await TestServer.JsonAsync(health)).GetProperty("status").GetString());

        var client = await WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/"));
        await using (client)
        {
            await client.SendAsync("""{"school_id":"2"}""");
            await client.SendAsync("ping");
            Assert.Equal("pong", await client.ReceiveAsync());

            using var udp = new UdpClient(AddressFamily.InterNetwork);
            await udp.SendAsync(Encoding.UTF8.GetBytes("""{"where":{"school_id":"2"},"data":{"order":42}}"""), new IPEndPoint(IPAddress.Loopback, udpPort))
                .AsTask().DefaultTimeout();
            Assert.Equal("""{"order":42}""", await client.ReceiveAsync());

            using var missing = await PublishAsync(http, """{"where":{"school_id":"2"},"data":"no key"}""", apiKey: null);
            using var wrong = await PublishAsync(http, """{"where":{"school_id":"2"},"data":"wrong key"}""", apiKey: "not-the-key");
            using var accepted = await PublishAsync(http, """{"where":{"school_id":"2"},"data":"with key"}""", ApiKey);
            Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
            Assert.Equal(1, (await TestServer.JsonAsync(accepted)).GetProperty("recipients").GetInt32());
            Assert.Equal("with key", await client.ReceiveAsync());
            Assert.True(client.NothingReceived, "the refused publishes must not have been delivered");
        }

        // The client has closed: the file logger writes in the background, so wait for the closed line to land.
        var opened = await WaitForLogLineAsync(logFile, OpenedLine(), herald);
        var connectionId = opened.Groups["id"].Value;
        await WaitForLogLineAsync(logFile, new Regex($@"Connection {Regex.Escape(connectionId)} from 127\.0\.0\.1:\d+ closed: code 1000"), herald);
        Assert.Contains("listening: WebSocket and HTTP on 127.0.0.1:" + Invariant(port), ReadShared(logFile));
        herald.AssertNoErrorsLogged();
        Assert.False(herald.HasExited, herald.Describe());
    }

    private static async Task<HttpResponseMessage> PublishAsync(HttpClient http, string body, string? apiKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/publish") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (apiKey is not null)
        {
            request.Headers.Add("X-API-Key", apiKey);
        }
        return await http.SendAsync(request).DefaultTimeout();
    }

    private static async Task<Match> WaitForLogLineAsync(string logFile, Regex line, HeraldProcess herald)
    {
        Match? match = null;
        try
        {
            await Timeouts.Until(() => (match = line.Match(ReadShared(logFile))).Success, $"the log file has a line like /{line}/");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\n--- {logFile} ---\n{ReadShared(logFile)}\n{herald.Describe()}", ex);
        }
        return match!;
    }

    /// <summary>Reads the log file while herald still has it open for appending.</summary>
    private static string ReadShared(string path)
    {
        if (!File.Exists(path))
        {
            return "";
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static Regex OpenedLine() => new(@"Connection (?<id>\S+) opened from 127\.0\.0\.1:\d+ \(Plain\)");

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
