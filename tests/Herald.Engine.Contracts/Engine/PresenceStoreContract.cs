using System.Text;
using Herald.Core.Engine;

namespace Herald.Engine.Contracts.Engine;

/// <summary>
/// The guarantees of <see cref="IPresenceStore"/>, written once and run against every implementation: entries stay
/// until removed, adding twice or removing what is not there changes nothing, stats and per-user counts follow every
/// change, and pages walk the members in client id order.
/// </summary>
public abstract class PresenceStoreContract
{
    private readonly Lazy<IPresenceStore> _store;

    protected PresenceStoreContract()
    {
        _store = new(CreateStore);
    }

    /// <summary>The store under test, created on first use.</summary>
    protected IPresenceStore Store => _store.Value;

    /// <summary>A new, empty store.</summary>
    protected abstract IPresenceStore CreateStore();

    protected static PresenceEntry Entry(string client, string user = "", string? info = null) =>
        new(client, user, info is null ? null : Encoding.UTF8.GetBytes(info));

    protected Task<PresenceChange> AddAsync(string channel, PresenceEntry entry) => Store.AddAsync(channel, entry).DefaultTimeout();

    protected Task<PresenceChange> RemoveAsync(string channel, string client, string user = "") => Store.RemoveAsync(channel, client, user).DefaultTimeout();

    protected Task<PresenceStats> StatsAsync(string channel) => Store.GetStatsAsync(channel).DefaultTimeout();

    /// <summary>Every member of <paramref name="channel"/>, walking the pages with the cursor.</summary>
    protected async Task<List<PresenceEntry>> AllAsync(string channel, int pageSize = 100)
    {
        var all = new List<PresenceEntry>();
        string? cursor = null;
        do
        {
            var page = await Store.GetAsync(channel, cursor, pageSize).DefaultTimeout();
            Assert.True(page.Members.Count <= pageSize, $"a page of {page.Members.Count} members for a limit of {pageSize}");
            all.AddRange(page.Members);
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        return all;
    }

    [Fact]
    public async Task An_added_entry_is_returned_with_its_user_and_info_until_removed()
    {
        var alice = Entry("c1", "alice", """{"name":"Alice","tags":["a","é"]}""");

        var added = await AddAsync("room", alice);
        var members = await AllAsync("room");
        var removed = await RemoveAsync("room", "c1", "alice");

        Assert.Equal(new PresenceChange(true, 1), added);
        var member = Assert.Single(members);
        Assert.Equal(("c1", "alice"), (member.ClientId, member.UserId));
        Assert.Equal(alice.Info, member.Info);
        Assert.Equal(new PresenceChange(true, 0), removed);
        Assert.Empty(await AllAsync("room"));
    }

    [Fact]
    public async Task An_anonymous_entry_without_info_counts_as_a_connection_but_not_a_user()
    {
        var change = await AddAsync("room", Entry("anon"));

        var member = Assert.Single(await AllAsync("room"));
        Assert.Equal(new PresenceChange(true, 0), change);
        Assert.Equal("", member.UserId);
        Assert.Null(member.Info);
        Assert.Equal(new PresenceStats(1, 0), await StatsAsync("room"));
    }

    [Fact]
    public async Task Adding_an_entry_twice_changes_nothing()
    {
        await AddAsync("room", Entry("c1", "alice"));

        var again = await AddAsync("room", Entry("c1", "alice"));

        Assert.Equal(new PresenceChange(false, 1), again);
        Assert.Equal(new PresenceStats(1, 1), await StatsAsync("room"));
        Assert.Single(await AllAsync("room"));
    }

    [Fact]
    public async Task Adding_an_entry_again_replaces_its_info()
    {
        await AddAsync("room", Entry("c1", "alice", """{"v":1}"""));

        await AddAsync("room", Entry("c1", "alice", """{"v":2}"""));

        Assert.Equal("""{"v":2}""", Encoding.UTF8.GetString(Assert.Single(await AllAsync("room")).Info!));
        Assert.Equal(new PresenceStats(1, 1), await StatsAsync("room"));
    }

    [Fact]
    public async Task Removing_an_entry_that_is_not_there_changes_nothing()
    {
        await AddAsync("room", Entry("c1", "alice"));

        var unknownClient = await RemoveAsync("room", "c2", "alice");
        var unknownChannel = await RemoveAsync("elsewhere", "c1", "alice");
        await RemoveAsync("room", "c1", "alice");
        var twice = await RemoveAsync("room", "c1", "alice");

        Assert.Equal(new PresenceChange(false, 0), unknownClient);
        Assert.Equal(new PresenceChange(false, 0), unknownChannel);
        Assert.Equal(new PresenceChange(false, 0), twice);
        Assert.Equal(new PresenceStats(0, 0), await StatsAsync("room"));
        Assert.Equal(new PresenceStats(0, 0), await StatsAsync("elsewhere"));
    }

    [Fact]
    public async Task Per_user_counts_follow_each_connection_of_the_user()
    {
        var first = await AddAsync("room", Entry("phone", "alice"));
        var second = await AddAsync("room", Entry("laptop", "alice"));
        var bob = await AddAsync("room", Entry("desk", "bob"));
        var oneLeft = await RemoveAsync("room", "phone", "alice");
        var noneLeft = await RemoveAsync("room", "laptop", "alice");

        Assert.Equal(new PresenceChange(true, 1), first);
        Assert.Equal(new PresenceChange(true, 2), second);
        Assert.Equal(new PresenceChange(true, 1), bob);
        Assert.Equal(new PresenceChange(true, 1), oneLeft);
        Assert.Equal(new PresenceChange(true, 0), noneLeft);
    }

    [Fact]
    public async Task Stats_count_connections_and_distinct_users_with_every_change()
    {
        await AddAsync("room", Entry("a1", "alice"));
        await AddAsync("room", Entry("a2", "alice"));
        await AddAsync("room", Entry("b1", "bob"));
        await AddAsync("room", Entry("x1"));
        var full = await StatsAsync("room");

        await RemoveAsync("room", "a1", "alice");
        var aliceOnce = await StatsAsync("room");
        await RemoveAsync("room", "a2", "alice");
        var withoutAlice = await StatsAsync("room");

        Assert.Equal(new PresenceStats(4, 2), full);
        Assert.Equal(new PresenceStats(3, 2), aliceOnce);
        Assert.Equal(new PresenceStats(2, 1), withoutAlice);
    }

    [Fact]
    public async Task Pages_walk_1000_members_in_client_id_order_each_once()
    {
        var clients = Enumerable.Range(0, 1000).Select(i => $"client-{i:D4}").ToList();
        await Task.WhenAll(clients.Select(c => Store.AddAsync("crowd", Entry(c, "user-" + (c.GetHashCode() & 31))).AsTask())).DefaultTimeout();

        var walked = await AllAsync("crowd", pageSize: 128);

        Assert.Equal(clients.Order(StringComparer.Ordinal), walked.Select(m => m.ClientId));
        Assert.Equal(1000, (await StatsAsync("crowd")).Connections);
    }

    [Fact]
    public async Task The_last_page_has_no_cursor_even_when_it_is_full()
    {
        foreach (var client in new[] { "a", "b", "c", "d" })
        {
            await AddAsync("room", Entry(client));
        }

        var first = await Store.GetAsync("room", null, 2).DefaultTimeout();
        var second = await Store.GetAsync("room", first.NextCursor, 2).DefaultTimeout();

        Assert.Equal(["a", "b"], first.Members.Select(m => m.ClientId));
        Assert.Equal("b", first.NextCursor);
        Assert.Equal(["c", "d"], second.Members.Select(m => m.ClientId));
        Assert.Null(second.NextCursor);
        Assert.Empty((await Store.GetAsync("room", "d", 2).DefaultTimeout()).Members);
    }

    [Fact]
    public async Task A_cursor_of_a_member_that_left_still_continues_after_it()
    {
        foreach (var client in new[] { "a", "b", "c", "d" })
        {
            await AddAsync("room", Entry(client));
        }
        var first = await Store.GetAsync("room", null, 2).DefaultTimeout();

        await RemoveAsync("room", "b");
        var rest = await Store.GetAsync("room", first.NextCursor, 10).DefaultTimeout();

        Assert.Equal(["c", "d"], rest.Members.Select(m => m.ClientId));
        Assert.Null(rest.NextCursor);
    }

    [Fact]
    public async Task A_channel_nobody_joined_is_empty()
    {
        var page = await Store.GetAsync("nobody", null, 10).DefaultTimeout();

        Assert.Empty(page.Members);
        Assert.Null(page.NextCursor);
        Assert.Equal(new PresenceStats(0, 0), await StatsAsync("nobody"));
    }

    [Fact]
    public async Task Channels_are_independent()
    {
        await AddAsync("a", Entry("c1", "alice"));
        await AddAsync("b", Entry("c1", "alice"));
        await AddAsync("b", Entry("c2", "bob"));

        await RemoveAsync("a", "c1", "alice");

        Assert.Equal(new PresenceStats(0, 0), await StatsAsync("a"));
        Assert.Equal(new PresenceStats(2, 2), await StatsAsync("b"));
        Assert.Equal(["c1", "c2"], (await AllAsync("b")).Select(m => m.ClientId));
    }

    [Fact]
    public async Task Concurrent_duplicate_adds_and_removes_leave_no_ghost_members_and_no_negative_counts()
    {
        var entries = Enumerable.Range(0, 200).Select(i => Entry($"c{i:D3}", $"u{i % 20}")).ToList();

        var adds = await Task.WhenAll(entries.Concat(entries).Select(e => Task.Run(async () => await Store.AddAsync("busy", e)))).DefaultTimeout();
        var whileFull = await StatsAsync("busy");
        var removes = await Task.WhenAll(entries.Concat(entries).Select(e => Task.Run(async () => await Store.RemoveAsync("busy", e.ClientId, e.UserId)))).DefaultTimeout();

        Assert.Equal(200, adds.Count(a => a.Changed));
        Assert.Equal(new PresenceStats(200, 20), whileFull);
        Assert.Equal(200, removes.Count(r => r.Changed));
        Assert.Equal(new PresenceStats(0, 0), await StatsAsync("busy"));
        Assert.Empty(await AllAsync("busy"));
        var again = await AddAsync("busy", Entry("c000", "u0"));
        Assert.Equal(new PresenceChange(true, 1), again);
    }

    [Fact]
    public async Task Per_user_connection_counts_follow_adds_and_removes_in_the_order_asked()
    {
        await AddAsync("online", Entry("c1", "ann"));
        await AddAsync("online", Entry("c2", "ann"));
        await AddAsync("online", Entry("c3", "bo"));
        await AddAsync("online", Entry("c2", "ann")); // again: no change

        Assert.Equal(new[] { 2, 1, 0 }, await Store.GetUserConnectionsAsync("online", ["ann", "bo", "cy"]).DefaultTimeout());
        await RemoveAsync("online", "c1", "ann");
        await RemoveAsync("online", "c3", "bo");
        Assert.Equal(new[] { 0, 1 }, await Store.GetUserConnectionsAsync("online", ["bo", "ann"]).DefaultTimeout());
        Assert.Empty(await Store.GetUserConnectionsAsync("online", []).DefaultTimeout());
        Assert.Equal(new[] { 0 }, await Store.GetUserConnectionsAsync("nowhere", ["ann"]).DefaultTimeout());
    }

    [Fact]
    public async Task Who_is_online_counts_each_user_once_per_connection_and_stays_apart_from_every_channel()
    {
        var first = await Store.AddOnlineAsync("c1", "alice").AsTask().DefaultTimeout();
        var again = await Store.AddOnlineAsync("c1", "alice").AsTask().DefaultTimeout();
        await Store.AddOnlineAsync("c2", "alice").AsTask().DefaultTimeout();
        await Store.AddOnlineAsync("c3", "bob").AsTask().DefaultTimeout();
        await AddAsync("room", Entry("c9", "carol"));

        var (connections, total) = await Store.CountOnlineAsync(["alice", "bob", "carol", "nobody"]).AsTask().DefaultTimeout();
        var roomMembers = await AllAsync("room");

        Assert.Equal(new PresenceChange(true, 1), first);
        Assert.Equal(new PresenceChange(false, 1), again); // adding twice changes nothing
        Assert.Equal([2, 1, 0, 0], connections); // carol is in a channel, not online: the sets never mix
        Assert.Equal(2, total);
        Assert.Equal(["c9"], roomMembers.Select(m => m.ClientId));

        var removed = await Store.RemoveOnlineAsync("c1", "alice").AsTask().DefaultTimeout();
        var removedAgain = await Store.RemoveOnlineAsync("c1", "alice").AsTask().DefaultTimeout();
        await Store.RemoveOnlineAsync("c3", "bob").AsTask().DefaultTimeout();
        var (after, totalAfter) = await Store.CountOnlineAsync(["alice", "bob"]).AsTask().DefaultTimeout();

        Assert.Equal(new PresenceChange(true, 1), removed);
        Assert.False(removedAgain.Changed);
        Assert.Equal([1, 0], after);
        Assert.Equal(1, totalAfter);
    }
}
