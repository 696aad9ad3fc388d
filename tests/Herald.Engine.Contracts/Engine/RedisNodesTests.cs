using System.Text;
using Herald.Core.Engine;
using Herald.Redis;
using Herald.Engine.Contracts.Infrastructure;

namespace Herald.Engine.Contracts.Engine;

/// <summary>What only a shared engine promises: several nodes on one Redis behave as one, and a dead node's traces expire.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisNodesTests(RedisEngineFixture redis) : IAsyncLifetime
{
    private static readonly RetentionLimits Keep = new(1000, TimeSpan.FromHours(1));

    private readonly CapturedLogs _logs = new();
    private readonly List<RedisEngine> _engines = [];
    private readonly string _prefix = RedisEngineFixture.NewPrefix();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var engine in _engines)
        {
            await engine.DisposeAsync();
        }
        Assert.Empty(_logs.Errors);
    }

    /// <summary>A node of this test's cluster (all share the test's key prefix unless told otherwise).</summary>
    private async Task<RedisEngine> NodeAsync(string name, string? prefix = null, TimeSpan? nodeExpiry = null)
    {
        var engine = await redis.ConnectAsync(_logs, prefix: prefix ?? _prefix, nodeName: name, nodeExpiry: nodeExpiry);
        _engines.Add(engine);
        return engine;
    }

    private static PresenceEntry Entry(string client, string user) => new(client, user, Encoding.UTF8.GetBytes($$"""{"c":"{{client}}"}"""));

    private static byte[] Json(int value) => Encoding.UTF8.GetBytes($$"""{"n":{{value}}}""");

    [Fact]
    public async Task Two_nodes_see_each_others_presence_members_and_share_the_counts()
    {
        var a = await NodeAsync("a");
        var b = await NodeAsync("b");

        await a.Presence.AddAsync("room", Entry("a-1", "alice")).DefaultTimeout();
        await b.Presence.AddAsync("room", Entry("b-1", "bob")).DefaultTimeout();
        var secondAlice = await b.Presence.AddAsync("room", Entry("b-2", "alice")).DefaultTimeout();
        var pageOnA = await a.Presence.GetAsync("room", null, 10).DefaultTimeout();
        var statsOnB = await b.Presence.GetStatsAsync("room").DefaultTimeout();
        var aliceLeavesA = await b.Presence.RemoveAsync("room", "a-1", "alice").DefaultTimeout();

        Assert.Equal(new PresenceChange(true, 2), secondAlice);
        Assert.Equal(["a-1", "b-1", "b-2"], pageOnA.Members.Select(m => m.ClientId));
        Assert.Equal("""{"c":"b-1"}""", Encoding.UTF8.GetString(pageOnA.Members[1].Info!));
        Assert.Equal(new PresenceStats(3, 2), statsOnB);
        Assert.Equal(new PresenceChange(true, 1), aliceLeavesA);
        Assert.Equal(new PresenceStats(2, 2), await a.Presence.GetStatsAsync("room").DefaultTimeout());
    }

    [Fact]
    public async Task Offsets_and_epochs_are_shared_so_appends_from_every_node_are_gapless()
    {
        var a = await NodeAsync("a");
        var b = await NodeAsync("b");

        var reserved = await a.History.GetPositionAsync("news").DefaultTimeout();
        var first = await b.History.AppendAsync("news", Json(1), Keep).DefaultTimeout();
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 200)
            .Select(i => (i % 2 == 0 ? a : b).History.AppendAsync("news", Json(i), Keep).AsTask())).DefaultTimeout();
        var inboxA = await a.Inbox.AppendAsync("alice", Json(1), Keep).DefaultTimeout();
        var inboxB = await b.Inbox.AppendAsync("alice", Json(2), Keep).DefaultTimeout();
        await b.Inbox.AckAsync("alice", 1).DefaultTimeout();

        Assert.Equal(new StreamPosition(1, reserved.Epoch), first);
        Assert.Equal(Enumerable.Range(2, 200).Select(i => (ulong)i), concurrent.Select(p => p.Offset).Order());
        Assert.All(concurrent, p => Assert.Equal(reserved.Epoch, p.Epoch));
        Assert.Equal(201UL, (await a.History.GetPositionAsync("news").DefaultTimeout()).Offset);
        Assert.Equal((1UL, 2UL), (inboxA, inboxB));
        var unread = await a.Inbox.ReadAsync("alice", null, 10).DefaultTimeout();
        Assert.Equal(1UL, unread.Acked);
        Assert.Equal([2UL], unread.Publications.Select(p => p.Offset));
    }

    [Fact]
    public async Task Entries_of_a_node_that_stopped_heartbeating_disappear_within_the_expiry()
    {
        var survivor = await NodeAsync("survivor");
        var crashed = await NodeAsync("crashed", nodeExpiry: RedisEngineFixture.ShortExpiry);
        await survivor.Presence.AddAsync("room", Entry("s-1", "sam")).DefaultTimeout();
        for (var i = 0; i < 30; i++)
        {
            await crashed.Presence.AddAsync("room" + (i % 3), Entry($"c-{i:D2}", "carol")).DefaultTimeout();
            await crashed.Presence.AddAsync("room", Entry($"r-{i:D2}", "user" + i)).DefaultTimeout();
        }
        Assert.Equal(new PresenceStats(31, 31), await survivor.Presence.GetStatsAsync("room").DefaultTimeout());

        await crashed.StopHeartbeatsAsync();
        var stillThere = await survivor.Presence.GetStatsAsync("room").DefaultTimeout();
        var gone = await Timeouts.UntilAsync(async () => (await survivor.Presence.GetStatsAsync("room0")).Connections == 0,
            "the crashed node's entries are gone", TimeSpan.FromSeconds(5));

        Assert.Equal(new PresenceStats(31, 31), stillThere);
        // Expiry 500 ms, heartbeat 100 ms: gone within 600 ms, plus slack for a slow machine.
        Assert.InRange(gone, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(2));
        Assert.Equal(new PresenceStats(1, 1), await survivor.Presence.GetStatsAsync("room").DefaultTimeout());
        Assert.Equal(["s-1"], (await survivor.Presence.GetAsync("room", null, 100).DefaultTimeout()).Members.Select(m => m.ClientId));
        foreach (var channel in new[] { "room1", "room2" })
        {
            Assert.Equal(new PresenceStats(0, 0), await survivor.Presence.GetStatsAsync(channel).DefaultTimeout());
        }
        Assert.Contains(_logs.Entries, e => e.EventId == 4008 && e.Message.Contains(crashed.NodeId, StringComparison.Ordinal));
        var database = survivor.Connection.GetDatabase();
        Assert.False(await database.SetContainsAsync(survivor.Keys.PresenceNodeSet, crashed.NodeId).DefaultTimeout());
        Assert.False(await database.KeyExistsAsync(survivor.Keys.NodePresenceIndex(crashed.NodeId)).DefaultTimeout());
    }

    [Fact]
    public async Task A_node_whose_heartbeat_lapsed_writes_back_the_entries_others_removed_as_dead()
    {
        var other = await NodeAsync("other");
        // Slow heartbeats for the paused node, so the others' read sees it dead before its next heartbeat.
        var options = redis.Options(_prefix, "paused");
        options.HeartbeatInterval = TimeSpan.FromSeconds(1);
        options.NodeExpiry = TimeSpan.FromSeconds(3);
        var paused = await RedisEngine.ConnectAsync(options, _logs).DefaultTimeout();
        _engines.Add(paused);
        for (var i = 0; i < 5; i++)
        {
            await paused.Presence.AddAsync("room", Entry($"p-{i}", "user" + i)).DefaultTimeout();
        }
        await paused.Presence.RemoveAsync("room", "p-4", "user4").DefaultTimeout();
        Assert.Equal(new PresenceStats(4, 4), await other.Presence.GetStatsAsync("room").DefaultTimeout());

        // As if the node had paused longer than the expiry: its heartbeat is gone, so a read removes its entries.
        await other.Connection.GetDatabase().KeyDeleteAsync(other.Keys.NodeAlive(paused.NodeId)).DefaultTimeout();
        await Timeouts.UntilAsync(async () => (await other.Presence.GetStatsAsync("room")).Connections == 0, "removed as a dead node's");

        // Its next heartbeat finds the lapse and writes back exactly what it has (not the entry it removed).
        await Timeouts.UntilAsync(async () => (await other.Presence.GetStatsAsync("room")).Connections == 4, "written back", TimeSpan.FromSeconds(5));
        Assert.Equal(["p-0", "p-1", "p-2", "p-3"], (await other.Presence.GetAsync("room", null, 10).DefaultTimeout()).Members.Select(m => m.ClientId));
        // The node logs the write-back once its script returns, which may be just after the entries became visible.
        await Timeouts.UntilAsync(() => Task.FromResult(_logs.Entries.Any(e => e.EventId == 4014)), "the write-back was logged");
    }

    [Fact]
    public async Task A_node_renews_its_heartbeat_before_writing_once_it_may_have_lapsed_on_the_engine_s_clock()
    {
        var time = new ManualTime();
        var options = redis.Options(_prefix, "timed");
        options.HeartbeatInterval = TimeSpan.FromMinutes(1); // the timed heartbeat loop stays out of the way
        options.NodeExpiry = TimeSpan.FromMinutes(3);
        var node = await RedisEngine.ConnectAsync(options, _logs, time).DefaultTimeout();
        _engines.Add(node);
        var database = node.Connection.GetDatabase();
        var alive = node.Keys.NodeAlive(node.NodeId);
        await Timeouts.UntilAsync(() => database.KeyExistsAsync(alive), "the first heartbeat");
        await node.Presence.AddAsync("room", Entry("t-0", "tess")).DefaultTimeout(); // the node knows the heartbeat fresh
        await database.KeyDeleteAsync(alive).DefaultTimeout(); // lost by Redis: only a renewal writes it again

        await node.Presence.AddAsync("room", Entry("t-1", "tess")).DefaultTimeout();
        var whileFresh = await database.KeyExistsAsync(alive).DefaultTimeout();
        time.Advance(options.NodeExpiry - options.HeartbeatInterval);
        await node.Presence.AddAsync("room", Entry("t-2", "tess")).DefaultTimeout();
        var onceItMayHaveLapsed = await database.KeyExistsAsync(alive).DefaultTimeout();

        Assert.False(whileFresh);
        Assert.True(onceItMayHaveLapsed); // two minutes passed on the clock the engine was given, however little on the machine's
    }

    [Fact]
    public async Task A_read_removes_the_entries_of_a_dead_node_even_when_its_index_missed_them()
    {
        var reader = await NodeAsync("reader");
        var crashed = await NodeAsync("crashed", nodeExpiry: RedisEngineFixture.ShortExpiry);
        await crashed.Presence.AddAsync("room", Entry("c-1", "carol")).DefaultTimeout();
        await crashed.StopHeartbeatsAsync();
        // As if the node had died between adding the entry and counting it in its index.
        await crashed.Connection.GetDatabase().KeyDeleteAsync(crashed.Keys.NodePresenceIndex(crashed.NodeId)).DefaultTimeout();

        await Task.Delay(TimeSpan.FromMilliseconds(800)); // past the expiry
        var stats = await reader.Presence.GetStatsAsync("room").DefaultTimeout();

        Assert.Equal(new PresenceStats(0, 0), stats);
        Assert.Empty((await reader.Presence.GetAsync("room", null, 10).DefaultTimeout()).Members);
    }

    [Fact]
    public async Task A_node_stopping_cleanly_leaves_the_registry_and_its_leftover_entries_go_at_once()
    {
        var stays = await NodeAsync("stays");
        var leaves = await NodeAsync("leaves");
        await leaves.Presence.AddAsync("room", Entry("l-1", "lea")).DefaultTimeout();

        _engines.Remove(leaves);
        await leaves.DisposeAsync();
        var nodes = await stays.GetNodesAsync().DefaultTimeout();
        await Timeouts.UntilAsync(async () => (await stays.Presence.GetStatsAsync("room")).Connections == 0,
            "the entries of the node that left are gone", TimeSpan.FromSeconds(2));

        Assert.Equal([stays.NodeId], nodes.Select(n => n.Id));
    }

    [Fact]
    public async Task The_node_registry_lists_live_nodes_with_their_connections_and_drops_dead_ones()
    {
        var a = await NodeAsync("a");
        var b = await NodeAsync("b");
        var dead = await NodeAsync("dead", nodeExpiry: RedisEngineFixture.ShortExpiry);
        a.ReportConnections(7);

        IReadOnlyList<RedisNodeInfo> nodes = [];
        await Timeouts.UntilAsync(async () => (nodes = await b.GetNodesAsync()).FirstOrDefault(n => n.Id == a.NodeId)?.Connections == 7,
            "the registry shows the connections node a reported");
        await dead.StopHeartbeatsAsync();
        await Task.Delay(TimeSpan.FromMilliseconds(800)); // past the expiry
        var afterCrash = await a.GetNodesAsync().DefaultTimeout();

        Assert.Equal(new[] { a.NodeId, b.NodeId, dead.NodeId }.Order(StringComparer.Ordinal), nodes.Select(n => n.Id));
        Assert.Equal(7, nodes.Single(n => n.Id == a.NodeId).Connections);
        Assert.InRange(nodes[0].StartedAt, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow);
        Assert.StartsWith("a-", a.NodeId, StringComparison.Ordinal);
        Assert.Equal(new[] { a.NodeId, b.NodeId }.Order(StringComparer.Ordinal), afterCrash.Select(n => n.Id));
        Assert.False(await a.Connection.GetDatabase().SetContainsAsync(a.Keys.NodeRegistry, dead.NodeId).DefaultTimeout());
    }

    [Fact]
    public async Task A_different_key_prefix_isolates_clusters_on_one_Redis()
    {
        var channel = "shared-" + Guid.NewGuid().ToString("N");
        var one = await NodeAsync("one");
        var other = await NodeAsync("other", RedisEngineFixture.NewPrefix());

        await one.History.AppendAsync(channel, Json(1), Keep).DefaultTimeout();
        await one.Inbox.AppendAsync(channel, Json(1), Keep).DefaultTimeout();
        await one.Presence.AddAsync(channel, Entry("c1", "alice")).DefaultTimeout();
        var otherFirst = await other.History.AppendAsync(channel, Json(1), Keep).DefaultTimeout();

        Assert.Equal(1UL, otherFirst.Offset);
        Assert.Empty((await other.Inbox.ReadAsync(channel, 0, 10).DefaultTimeout()).Publications);
        Assert.Equal(new PresenceStats(0, 0), await other.Presence.GetStatsAsync(channel).DefaultTimeout());
        Assert.Equal([other.NodeId], (await other.GetNodesAsync().DefaultTimeout()).Select(n => n.Id));
        Assert.Equal([one.NodeId], (await one.GetNodesAsync().DefaultTimeout()).Select(n => n.Id));
        var server = one.Connection.GetServer(redis.Server.Address);
        var keys = server.Keys(pattern: $"*{channel}*").Select(k => (string)k!).ToList();
        Assert.NotEmpty(keys);
        Assert.All(keys, k => Assert.True(k.StartsWith(one.Keys.Prefix + ":", StringComparison.Ordinal) || k.StartsWith(other.Keys.Prefix + ":", StringComparison.Ordinal), k));
    }
}
