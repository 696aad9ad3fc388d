using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Herald.Protocol;
using Herald.Server.Tests.Infrastructure;
using Herald.Server.Tests.Process;

namespace Herald.Server.Tests.Cluster;

/// <summary>What happens when a node dies or Redis restarts under a running cluster.</summary>
[Collection(RedisClusterCollection.Name)]
public sealed class ClusterFailureTests(RedisClusterFixture fixture)
{
    [Fact]
    [Trait("Category", "Slow")]
    public async Task A_killed_node_leaves_presence_and_the_node_list_within_the_expiry()
    {
        var prefix = RedisClusterFixture.NewPrefix();
        // The executable, started with the flags the issue names as the public contract.
        var process = HeraldProcess.Start(
        [
            "serve", "--host", "127.0.0.1", "--port", "0", "--udp-port", "0",
            "--engine", "redis", "--redis", fixture.Redis.Address, "--redis-prefix", prefix,
            "--set", "redis_heartbeat=200ms", "--set", "redis_node_expiry=1s",
        ]);
        await using (process)
        {
            var listening = await process.WaitForListeningAsync();
            await using var nodes = await fixture.StartNodesAsync(1, prefix);
            var survivor = nodes[0];

            await using var client = await WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{listening.HttpPort}/"), ProtocolNames.SubprotocolV1);
            Assert.True((await TestServer.CallAsync(client, 1, "connect", "{}")).TryGetProperty("result", out _));
            Assert.True((await TestServer.CallAsync(client, 2, "subscribe", """{"channel":"lobby"}""")).TryGetProperty("result", out _));
            Assert.Equal(1, (await StatsAsync(survivor, "lobby")).GetProperty("connections").GetInt32());
            await Timeouts.Until(() => NodeCount(survivor).Result == 2, "both nodes listed");

            process.Kill();
            await process.WaitForExitAsync();
            // Expiry 1 s, heartbeat 0.2 s: gone within about 1.2 s; the bound here only keeps a hang from eating CI.
            await Timeouts.Until(() => StatsAsync(survivor, "lobby").Result.GetProperty("connections").GetInt32() == 0,
                "the dead node's presence expired", TimeSpan.FromSeconds(15));
            await Timeouts.Until(() => NodeCount(survivor).Result == 1, "the dead node left the list", TimeSpan.FromSeconds(15));
            Assert.Contains("Connected to Redis", process.Stdout);
        }
    }

    private static async Task<JsonElement> StatsAsync(TestServer node, string channel)
    {
        using var response = await node.PostApiAsync("presence_stats", $$"""{"channel":"{{channel}}"}""");
        return await TestServer.JsonAsync(response);
    }

    private static async Task<int> NodeCount(TestServer node)
    {
        using var response = await node.PostApiAsync("info", "{}");
        return (await TestServer.JsonAsync(response)).GetProperty("nodes").GetArrayLength();
    }

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Redis_restarting_mid_stream_loses_no_acknowledged_publish_for_a_client_that_recovers()
    {
        await using var redis = await RedisServer.StartAsync(durable: true);
        var prefix = RedisClusterFixture.NewPrefix();
        var nodes = new List<TestServer>();
        for (var i = 0; i < 2; i++)
        {
            var node = await TestServer.StartAsync(o => o with { Redis = RedisClusterFixture.Engine(redis.Address, prefix) });
            foreach (var id in new[] { 4003, 1012 })
            {
                node.Logs.ExpectError(id); // the connection to Redis is lost, publishes fail meanwhile
            }
            nodes.Add(node);
        }
        await using var all = new Nodes(nodes, prefix);
        var publisherNode = nodes[0];
        var subscriberNode = nodes[1];

        // Publisher: HTTP publishes with a sequence number, remembering which ones were acknowledged (200).
        var acknowledged = new ConcurrentDictionary<ulong, int>();
        using var stop = new CancellationTokenSource();
        var publisher = Task.Run(async () =>
        {
            var failures = 0;
            for (var i = 1; !stop.IsCancellationRequested; i++)
            {
                using var response = await publisherNode.PostApiAsync("publish", $$"""{"channel":"ledger","data":{{i}}}""");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    acknowledged[(await TestServer.JsonAsync(response)).GetProperty("offset").GetUInt64()] = i;
                }
                else
                {
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                    failures++;
                    await Task.Delay(20);
                }
            }
            return failures;
        });

        // Subscriber: keeps what it received by offset; reconnects and recovers from the last offset whenever it is
        // closed (as the SDKs do), on the same node.
        var received = new ConcurrentDictionary<ulong, int>();
        var epoch = "";
        ulong last = 0;
        var reconnects = 0;
        // Done once publishing stopped and the newest acknowledged offset arrived: offsets arrive gapless (Take checks), so
        // every acknowledged one did too. (Redis may also hold publishes whose 200 was lost with the connection.)
        var published = false;
        bool Done() => Volatile.Read(ref published) && last >= (acknowledged.IsEmpty ? 0 : acknowledged.Keys.Max());
        var subscriber = Task.Run(async () =>
        {
            while (!Done())
            {
                await using var client = await WsClient.ConnectAsync(subscriberNode.WebSocketUri, ProtocolNames.SubprotocolV1);
                try
                {
                    var connected = await TestServer.CallAsync(client, 1, "connect", "{}");
                    var reply = await TestServer.CallAsync(client, 2, "subscribe",
                        last == 0 ? """{"channel":"ledger","since":{"offset":0,"epoch":""}}""" : $$$"""{"channel":"ledger","since":{"offset":{{{last}}},"epoch":"{{{epoch}}}"}}""");
                    if (!reply.TryGetProperty("result", out var result))
                    {
                        await Task.Delay(100); // Redis is down: try again
                        continue;
                    }
                    Assert.True(result.GetProperty("recovered").GetBoolean(), result.ToString());
                    epoch = result.GetProperty("epoch").GetString()!;
                    foreach (var publication in result.GetProperty("publications").EnumerateArray())
                    {
                        Take(publication);
                    }
                    while (!Done())
                    {
                        JsonElement message;
                        try
                        {
                            message = await client.ReceiveJsonAsync(TimeSpan.FromMilliseconds(300));
                        }
                        catch (TimeoutException)
                        {
                            continue;
                        }
                        if (message.TryGetProperty("push", out var push) && push.GetString() == "pub")
                        {
                            Take(message);
                        }
                    }
                    return;
                }
                catch (Exception ex) when (ex is TimeoutException or System.Net.WebSockets.WebSocketException or InvalidOperationException or OperationCanceledException)
                {
                    reconnects++;
                    if (Done())
                    {
                        break;
                    }
                }
            }
        });

        void Take(JsonElement publication)
        {
            var offset = publication.GetProperty("offset").GetUInt64();
            Assert.True(received.TryAdd(offset, publication.GetProperty("data").GetInt32()), $"offset {offset} delivered twice");
            Assert.Equal(last + 1, offset); // in order, no gap
            last = offset;
        }

        await Timeouts.Until(() => acknowledged.Count > 50, "publishing", TimeSpan.FromSeconds(20));
        await redis.StopAsync(); // kill: with appendfsync always, everything Redis acknowledged is on disk
        await Task.Delay(500);
        await redis.RestartAsync();
        var afterRestart = acknowledged.Count;
        await Timeouts.Until(() => acknowledged.Count > afterRestart + 50, "publishing again after the restart", TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        var failed = await publisher;
        Volatile.Write(ref published, true);
        await subscriber.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(failed > 0, "some publishes should have failed while Redis was down");
        foreach (var (offset, sequence) in acknowledged)
        {
            Assert.True(received.TryGetValue(offset, out var got), $"acknowledged offset {offset} (publish {sequence}) never reached the subscriber");
            Assert.Equal(sequence, got);
        }
        Assert.True(reconnects >= 1, "the subscriber should have been told to reconnect and recover");
    }
}
