using System.Globalization;
using Herald.Core.Auth;
using Xunit.Abstractions;

namespace Herald.Client.Tests.Chaos;

/// <summary>
/// The .NET client against the real server while connections are reset, servers are killed with SIGKILL and started
/// again, and publications keep coming: nothing acknowledged is lost or repeated. Each run takes about 20 s by default;
/// <c>HERALD_CHAOS_SECONDS=600</c> makes it a soak, <c>HERALD_CHAOS_SEED</c> replays one (see docs/history.md).
/// </summary>
public sealed class ClientChaosTests(ITestOutputHelper output)
{
    private static string[] Serve(int port, params string[] more) =>
        ["serve", "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--udp-port", "0", .. more];

    [Fact]
    [Trait("Category", "Chaos")]
    public async Task Sqlite_clients_get_every_acknowledged_publication_once_in_order_through_drops_and_kill_9_restarts()
    {
        var settings = ChaosSettings.FromEnvironment(TimeSpan.FromSeconds(20));
        using var directory = new TempDirectory();
        var dataDir = Path.Combine(directory.Path, "data");
        HeraldProcess? server = null;
        var port = 0; // 0 while the server is down
        async Task StartAsync()
        {
            var next = FreePorts.Tcp();
            server = HeraldProcess.Start(Serve(next, ["--data-dir", dataDir, .. ChaosRun.ServerSettings()]), directory.Path);
            await server.WaitForListeningAsync();
            Volatile.Write(ref port, next);
        }
        async Task KillAndRestartAsync()
        {
            Volatile.Write(ref port, 0);
            server!.Kill(); // SIGKILL: no shutdown code runs; the SQLite file is all that is left
            await server.WaitForExitAsync();
            await server.DisposeAsync();
            await StartAsync();
        }

        await StartAsync();
        try
        {
            await using var run = await ChaosRun.StartAsync(settings, () => Volatile.Read(ref port) is var p and > 0 ? p : null, clients: 10, output);
            // Two restarts in the default run, one more per further 10 s of a soak.
            var restarts = Math.Max(2, (int)(settings.Duration.TotalSeconds / 10));
            await run.RunAsync(TimeSpan.FromMilliseconds(120),
                [.. Enumerable.Range(1, restarts).Select(i => ((double)i / (restarts + 1), "kill -9 and restart the server", (Func<Task>)KillAndRestartAsync))]);
        }
        finally
        {
            await server!.DisposeAsync();
        }
    }

    [Fact]
    [Trait("Category", "Chaos")]
    public async Task Redis_clients_of_a_killed_node_move_to_another_and_miss_nothing()
    {
        var settings = ChaosSettings.FromEnvironment(TimeSpan.FromSeconds(20));
        await using var redis = await RedisServer.StartAsync();
        var prefix = "chaos" + Guid.NewGuid().ToString("N")[..8];
        var nodes = new HeraldProcess?[2];
        var ports = new int?[2];
        var routing = new Random(settings.Seed);
        var routingLock = new Lock();
        int? AlivePort()
        {
            lock (routingLock)
            {
                var alive = ports.Where(p => p is not null).ToArray();
                return alive.Length == 0 ? null : alive[routing.Next(alive.Length)];
            }
        }
        async Task StartAsync(int node)
        {
            var next = FreePorts.Tcp();
            nodes[node] = HeraldProcess.Start(Serve(next,
            [
                "--engine", "redis", "--redis", redis.Address, "--redis-prefix", prefix,
                "--set", "redis_heartbeat=200ms", "--set", "redis_node_expiry=2s", .. ChaosRun.ServerSettings(),
            ]));
            await nodes[node]!.WaitForListeningAsync();
            lock (routingLock)
            {
                ports[node] = next;
            }
        }
        async Task KillAsync(int node)
        {
            lock (routingLock)
            {
                ports[node] = null; // its clients reconnect to the other node
            }
            nodes[node]!.Kill();
            await nodes[node]!.WaitForExitAsync();
            await nodes[node]!.DisposeAsync();
        }

        await StartAsync(0);
        await StartAsync(1);
        try
        {
            await using var run = await ChaosRun.StartAsync(settings, AlivePort, clients: 10, output);
            await run.RunAsync(TimeSpan.FromMilliseconds(120),
                (0.25, "kill -9 node 0", () => KillAsync(0)),
                (0.45, "start node 0 again", () => StartAsync(0)),
                (0.6, "kill -9 node 1", () => KillAsync(1)),
                (0.8, "start node 1 again", () => StartAsync(1)));
        }
        finally
        {
            foreach (var node in nodes)
            {
                if (node is not null)
                {
                    await node.DisposeAsync();
                }
            }
        }
    }

    [Fact]
    [Trait("Category", "Chaos")]
    public async Task Clients_away_for_longer_than_history_keeps_are_told_recovered_false_and_the_others_miss_nothing()
    {
        var settings = ChaosSettings.FromEnvironment(TimeSpan.FromSeconds(10));
        const int historySize = 40;
        await using var server = await TestServer.StartAsync(o => o with
        {
            Token = new TokenOptions { Secret = ChaosRun.Secret },
            Node = o.Node with { HistorySize = historySize, InboxSize = 100_000 },
        });
        var port = server.Server.HttpEndPoint.Port;
        await using var run = await ChaosRun.StartAsync(settings, () => port, clients: 6, output, historySize, blackoutChance: 0.3);

        await run.RunAsync(TimeSpan.FromMilliseconds(150));

        Assert.True(run.RecoveryFailures > 0, $"no client was away long enough to be told recovered:false ({settings.Replay(nameof(Clients_away_for_longer_than_history_keeps_are_told_recovered_false_and_the_others_miss_nothing))})");
    }
}
