using Herald.Server.Tests.Infrastructure;
using Herald.Server.Tests.Process;

namespace Herald.Server.Tests;

/// <summary>
/// Nothing clients can create grows forever: anonymous clients subscribing to ever new channel names, round after
/// round, leave no per-name state behind once they are gone and the housekeeping bound has passed (here set to zero),
/// on the memory and the SQLite engine. Counted in the node's tables, not in RSS (which is noisy). A subscriber that
/// stays keeps its epoch across every sweep.
/// </summary>
public sealed class ChannelChurnTests
{
    private const int Rounds = 6;
    private const int ClientsPerRound = 20;
    private const int NamesPerClient = 32;

    [Fact]
    public Task Tracked_state_levels_off_under_channel_name_churn_with_the_memory_engine() => ChurnAsync(dataDirectory: null);

    [Fact]
    public async Task Tracked_state_levels_off_under_channel_name_churn_with_the_sqlite_engine()
    {
        using var directory = new TempDirectory();
        await ChurnAsync(directory.Path);
    }

    private static async Task ChurnAsync(string? dataDirectory)
    {
        await using var server = await TestServer.StartAsync(o => o with
        {
            DataDirectory = dataDirectory,
            Node = o.Node with { IdleChannelTimeout = TimeSpan.Zero },
        });
        var node = server.Node;
        var stayer = await server.ConnectNativeAsync();
        var kept = await TestServer.CallAsync(stayer, 2, "subscribe", """{"channel":"kept"}""");
        var keptEpoch = kept.GetProperty("result").GetProperty("epoch").GetString();
        var peaks = new List<int>();
        var after = new List<Herald.Core.Node.TrackedState>();

        for (var round = 0; round < Rounds; round++)
        {
            var clients = new List<WsClient>();
            for (var c = 0; c < ClientsPerRound; c++)
            {
                var client = await server.ConnectNativeAsync();
                for (var n = 0; n < NamesPerClient; n++)
                {
                    await client.SendAsync($$$"""{"id":{{{n + 10}}},"method":"subscribe","params":{"channel":"churn-{{{round}}}-{{{c}}}-{{{n}}}"}}""");
                }
                for (var n = 0; n < NamesPerClient; n++)
                {
                    var reply = await client.ReceiveJsonUntilAsync(m => m.TryGetProperty("id", out _));
                    Assert.True(reply.TryGetProperty("result", out _), reply.ToString());
                }
                clients.Add(client);
            }
            peaks.Add(node.Tracked.IdleChannelState);
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
            // A close leaves the registry first, then its channels: wait for both.
            await Timeouts.Until(() => node.ConnectionCount == 1 && node.ChannelCount == 1, $"round {round}: the churning clients are gone");
            node.Housekeep(TimeSpan.Zero);
            after.Add(node.Tracked);
        }

        var published = await TestServer.JsonAsync(await server.PostApiAsync("publish", """{"channel":"kept","data":"still here"}"""));
        var push = await stayer.ReceiveJsonUntilAsync(m => m.TryGetProperty("push", out _));

        // Each round made state for every name it used: the test churns for real.
        Assert.All(peaks, peak => Assert.True(peak >= ClientsPerRound * NamesPerClient, $"peaks {string.Join(",", peaks)}"));
        // After each round only the stayer's channel is left, however many names came before.
        Assert.All(after, state =>
        {
            Assert.Equal(1, state.Channels);
            Assert.Equal(1, state.IdleChannelState);
            Assert.Equal(0, state.StreamPipes);
            Assert.Equal(1, state.Connections);
            Assert.Equal(0, state.AttributePairs);
        });
        Assert.Equal(keptEpoch, published.GetProperty("epoch").GetString());
        Assert.Equal(1UL, published.GetProperty("offset").GetUInt64());
        Assert.Equal(1UL, push.GetProperty("offset").GetUInt64());
    }
}
