using System.Diagnostics;
using System.Text;
using Herald.Core.Engine;
using Herald.Redis;
using Herald.Engine.Contracts.Infrastructure;
using StackExchange.Redis;
using StreamPosition = Herald.Core.Engine.StreamPosition;

namespace Herald.Engine.Contracts.Engine;

/// <summary>The engine against Redis itself: the key layout, keys that expire, and a Redis that goes away and comes back.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisEngineTests(RedisEngineFixture redis)
{
    private static byte[] Json(int value) => Encoding.UTF8.GetBytes($$"""{"n":{{value}}}""");

    [Theory]
    [InlineData("plain")]
    [InlineData("news:{sports}")]
    [InlineData("}{")]
    [InlineData("")]
    [InlineData("100%")]
    public void All_keys_of_a_channel_or_user_share_one_hash_slot(string name)
    {
        var keys = new RedisKeys("herald");
        var channelKeys = new[]
        {
            keys.HistoryMeta(name), keys.HistoryEntries(name), keys.PresenceMembers(name), keys.PresenceOrder(name),
            keys.PresenceUsers(name), keys.PresenceNodes(name), (RedisKey)(keys.PresenceNodeMembersPrefix(name) + "node-1"),
            keys.InboxMeta(name), keys.InboxEntries(name), (RedisKey)keys.ChannelTopic(name), (RedisKey)keys.UserTopic(name),
        };
        var nodeKeys = new[] { keys.NodeAlive("a"), keys.NodeAlive("b"), keys.PresenceNodeSet, keys.NodePresenceIndex("a"), keys.NodeInfo("a"), keys.NodeRegistry };

        Assert.Single(channelKeys.Select(Slot).Distinct());
        Assert.Single(nodeKeys.Select(Slot).Distinct());
        Assert.All(channelKeys.Concat(nodeKeys), k => Assert.StartsWith("herald:", (string)k!, StringComparison.Ordinal));
        Assert.Equal("herald:h:{plain}:entries", (string)keys.HistoryEntries("plain")!);
    }

    [Fact]
    public void Names_that_look_alike_after_escaping_still_get_different_keys()
    {
        var keys = new RedisKeys("herald");
        var names = new[] { "{", "%7B", "%", "", "}", "%7D", "%25" };

        Assert.Equal(names.Length, names.Select(n => (string)keys.HistoryMeta(n)!).Distinct().Count());
        Assert.Throws<ArgumentException>(() => new RedisKeys("a{b}"));
    }

    [Fact]
    public async Task Idle_streams_vanish_from_Redis_after_their_TTL_and_come_back_with_a_new_epoch()
    {
        var logs = new CapturedLogs();
        var options = redis.Options();
        options.PositionTtl = TimeSpan.FromMilliseconds(600);
        await using var engine = await RedisEngine.ConnectAsync(options, logs).DefaultTimeout();
        var database = engine.Connection.GetDatabase();
        var shortLived = new RetentionLimits(10, TimeSpan.FromMilliseconds(300));

        var first = await engine.History.AppendAsync("idle", Json(1), shortLived).DefaultTimeout();
        await engine.Inbox.AppendAsync("idle", Json(1), shortLived).DefaultTimeout();
        var entriesTtl = await database.KeyTimeToLiveAsync(engine.Keys.HistoryEntries("idle")).DefaultTimeout();
        var metaTtl = await database.KeyTimeToLiveAsync(engine.Keys.HistoryMeta("idle")).DefaultTimeout();
        RedisKey[] all = [engine.Keys.HistoryMeta("idle"), engine.Keys.HistoryEntries("idle"), engine.Keys.InboxMeta("idle"), engine.Keys.InboxEntries("idle")];
        await Timeouts.UntilAsync(async () => await database.KeyExistsAsync(all) == 0, "the idle channel's keys expired", TimeSpan.FromSeconds(5));
        var next = await engine.History.AppendAsync("idle", Json(2), shortLived).DefaultTimeout();

        Assert.InRange(entriesTtl!.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(300));
        Assert.InRange(metaTtl!.Value, TimeSpan.FromMilliseconds(301), TimeSpan.FromMilliseconds(600));
        Assert.Equal(1UL, next.Offset);
        Assert.NotEqual(first.Epoch, next.Epoch);
        Assert.Equal(1UL, await engine.Inbox.AppendAsync("idle", Json(2), shortLived).DefaultTimeout());
        Assert.Empty(logs.Errors);
    }

    [Fact]
    public async Task With_Redis_stopped_operations_fail_fast_and_after_a_restart_work_again_on_the_same_engine()
    {
        await using var server = await RedisServer.StartAsync();
        var logs = new CapturedLogs();
        await using var engine = await RedisEngine.ConnectAsync(redis.Options(server: server), logs).DefaultTimeout();
        var limits = new RetentionLimits(10, TimeSpan.FromMinutes(1));
        var before = await engine.History.AppendAsync("orders", Json(1), limits).DefaultTimeout();
        await engine.Presence.AddAsync("room", new PresenceEntry("c1", "alice", null)).DefaultTimeout();

        await server.StopAsync();
        await Timeouts.UntilAsync(() => Task.FromResult(!engine.IsConnected), "the engine noticed Redis is gone");
        var failures = new (string Operation, Func<Task> Call)[]
        {
            ("history append", () => engine.History.AppendAsync("orders", Json(2), limits).AsTask()),
            ("history read", () => engine.History.ReadAsync("orders", 0, 10, newestFirst: false).AsTask()),
            ("history position", () => engine.History.GetPositionAsync("orders").AsTask()),
            ("history remove", () => engine.History.RemoveAsync("orders").AsTask()),
            ("inbox append", () => engine.Inbox.AppendAsync("alice", Json(1), limits).AsTask()),
            ("inbox read", () => engine.Inbox.ReadAsync("alice", null, 10).AsTask()),
            ("inbox acknowledge", () => engine.Inbox.AckAsync("alice", 1).AsTask()),
            ("inbox delete", () => engine.Inbox.DeleteAsync("alice", null).AsTask()),
            ("presence add", () => engine.Presence.AddAsync("room", new PresenceEntry("c2", "bob", null)).AsTask()),
            ("presence remove", () => engine.Presence.RemoveAsync("room", "c1", "alice").AsTask()),
            ("presence read", () => engine.Presence.GetAsync("room", null, 10).AsTask()),
            ("presence stats", () => engine.Presence.GetStatsAsync("room").AsTask()),
            ("node list", () => engine.GetNodesAsync()),
        };
        foreach (var (operation, call) in failures)
        {
            var timer = Stopwatch.StartNew();
            var error = await Assert.ThrowsAnyAsync<Exception>(() => call().DefaultTimeout());
            Assert.True(error is StoreUnavailableException, $"{operation} threw {error.GetType().Name}: {error.Message}");
            Assert.True(timer.Elapsed < TimeSpan.FromSeconds(1), $"{operation} took {timer.Elapsed} to fail");
            Assert.Contains("Redis", error.Message, StringComparison.Ordinal);
            Assert.Contains(server.Address, error.Message, StringComparison.Ordinal);
        }

        await server.RestartAsync();
        StreamPosition after = default;
        await Timeouts.UntilAsync(async () =>
        {
            try
            {
                after = await engine.History.AppendAsync("orders", Json(3), limits);
                return true;
            }
            catch (StoreUnavailableException)
            {
                return false;
            }
        }, "appends work again after the restart");
        var presence = await engine.Presence.AddAsync("room", new PresenceEntry("c3", "carol", null)).DefaultTimeout();

        // The restarted server is empty (no persistence): the stream was lost, so it starts again under a new epoch.
        Assert.Equal(1UL, after.Offset);
        Assert.NotEqual(before.Epoch, after.Epoch);
        Assert.Equal(new PresenceChange(true, 1), presence);
        Assert.Equal(new PresenceStats(1, 1), await engine.Presence.GetStatsAsync("room").DefaultTimeout());
        await Timeouts.UntilAsync(async () => (await engine.GetNodesAsync()).Any(n => n.Id == engine.NodeId), "the node registered again");
        Assert.All(logs.Errors, e => Assert.Equal(4003, e.EventId)); // only "lost the connection", which is what happened
        Assert.Contains(logs.Entries, e => e.EventId == 4004);
    }

    private static int Slot(RedisKey key)
    {
        // CRC16 (XMODEM) of the hash tag, or of the whole key without one, modulo 16384: as Redis Cluster computes it.
        var bytes = Encoding.UTF8.GetBytes((string)key!);
        var open = Array.IndexOf(bytes, (byte)'{');
        if (open >= 0)
        {
            var close = Array.IndexOf(bytes, (byte)'}', open + 1);
            if (close > open + 1)
            {
                bytes = bytes[(open + 1)..close];
            }
        }
        ushort crc = 0;
        foreach (var b in bytes)
        {
            crc ^= (ushort)(b << 8);
            for (var i = 0; i < 8; i++)
            {
                crc = (ushort)((crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1);
            }
        }
        return crc % 16384;
    }
}
