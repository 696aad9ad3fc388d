using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Herald.Protocol;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Process;

/// <summary>The embedded default's promise: a publish answered 200 survives kill -9, and recovery continues across the restart.</summary>
public sealed class DurabilityTests
{
    [Fact]
    public async Task Every_acknowledged_publish_survives_kill_9_and_recovery_continues_after_restart()
    {
        using var directory = new TempDirectory();
        var dataDir = Path.Combine(directory.Path, "data");
        string[] Args(int port) =>
        [
            "serve", "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--udp-port", "0",
            "--data-dir", dataDir, "--set", "history_size=100000",
        ];

        var acknowledged = new ConcurrentDictionary<ulong, string>();
        string? epoch = null;
        var port = FreePorts.Tcp();
        var herald = HeraldProcess.Start(Args(port), directory.Path);
        await using (herald)
        {
            await herald.WaitForListeningAsync();
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(5) };
            using var stop = new CancellationTokenSource();
            var publishers = Enumerable.Range(0, 4).Select(p => Task.Run(async () =>
            {
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var payload = $"p{p}-{i}";
                    try
                    {
                        using var response = await http.PostAsync("api/publish",
                            new StringContent($$$"""{"channel":"ledger","data":"{{{payload}}}"}""", Encoding.UTF8, "application/json"));
                        if (response.StatusCode != HttpStatusCode.OK)
                        {
                            continue;
                        }
                        using var reply = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                        acknowledged[reply.RootElement.GetProperty("offset").GetUInt64()] = payload;
                        epoch = reply.RootElement.GetProperty("epoch").GetString();
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
                    {
                        return; // the server is gone: what was not answered 200 was never promised
                    }
                }
            })).ToArray();
            await Timeouts.Until(() => acknowledged.Count >= 300, "300 publishes were acknowledged", TimeSpan.FromSeconds(30));
            herald.Kill(); // SIGKILL mid-stream: no shutdown hook runs
            await Task.WhenAll(publishers).WaitAsync(TimeSpan.FromSeconds(15));
            await stop.CancelAsync();
        }

        var restartPort = FreePorts.Tcp();
        await using var restarted = HeraldProcess.Start(Args(restartPort), directory.Path);
        await restarted.WaitForListeningAsync();
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{restartPort}/"), Timeout = Timeouts.Default };
        using var history = JsonDocument.Parse(await (await client.PostAsync("api/history",
            new StringContent("""{"channel":"ledger","limit":100000}""", Encoding.UTF8, "application/json"))).Content.ReadAsStringAsync());
        var stored = history.RootElement.GetProperty("publications").EnumerateArray()
            .ToDictionary(p => p.GetProperty("offset").GetUInt64(), p => p.GetProperty("data").GetString());

        Assert.Equal(epoch, history.RootElement.GetProperty("epoch").GetString());
        foreach (var (offset, payload) in acknowledged)
        {
            Assert.True(stored.TryGetValue(offset, out var data), $"acknowledged offset {offset} is missing after kill -9");
            Assert.Equal(payload, data);
        }
        Assert.Equal(Enumerable.Range(1, stored.Count).Select(i => (ulong)i), stored.Keys.Order());

        // A client that saw offset 100 before the crash recovers everything after it from the restarted server.
        await using var ws = await WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{restartPort}/"), ProtocolNames.SubprotocolV1);
        await TestServer.CallAsync(ws, 1, "connect");
        var recovered = (await TestServer.CallAsync(ws, 2, "subscribe", $$$"""{"channel":"ledger","since":{"offset":100,"epoch":"{{{epoch}}}"}}""")).GetProperty("result");
        Assert.True(recovered.GetProperty("recovered").GetBoolean());
        Assert.Equal(stored.Count - 100, recovered.GetProperty("publications").GetArrayLength());
        Assert.Equal(101UL, recovered.GetProperty("publications")[0].GetProperty("offset").GetUInt64());
    }
}
