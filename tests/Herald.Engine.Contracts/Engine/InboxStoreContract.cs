using System.Text;
using Herald.Core.Engine;

namespace Herald.Engine.Contracts.Engine;

/// <summary>
/// The guarantees of <see cref="IInboxStore"/>, written once and run against every implementation. Each test gets a
/// fresh store on a <see cref="ManualTime"/> clock.
/// </summary>
public abstract class InboxStoreContract
{
    protected static readonly RetentionLimits Keep = new(10_000, TimeSpan.FromDays(7));

    private readonly Lazy<IInboxStore> _store;

    protected InboxStoreContract()
    {
        _store = new(() => CreateStore(Time));
    }

    protected ManualTime Time { get; } = new();

    /// <summary>The store under test, created on first use (by whichever task gets there first).</summary>
    protected IInboxStore Store => _store.Value;

    /// <summary>A new, empty store reading the clock <paramref name="time"/>.</summary>
    protected abstract IInboxStore CreateStore(TimeProvider time);

    protected static byte[] Json(int value) => Encoding.UTF8.GetBytes($$"""{"n":{{value}}}""");

    protected async Task<List<ulong>> AppendAsync(string user, int count, RetentionLimits? limits = null)
    {
        var offsets = new List<ulong>();
        for (var i = 0; i < count; i++)
        {
            offsets.Add(await Store.AppendAsync(user, Json(i + 1), limits ?? Keep).DefaultTimeout());
        }
        return offsets;
    }

    protected Task<InboxPage> ReadAsync(string user, ulong? since = null, int limit = 100_000) =>
        Store.ReadAsync(user, since, limit).DefaultTimeout();

    protected Task<ulong> AckAsync(string user, ulong offset) => Store.AckAsync(user, offset).DefaultTimeout();

    protected static ulong[] Offsets(InboxPage page) => [.. page.Publications.Select(p => p.Offset)];

    [Fact]
    public async Task Offsets_start_at_1_and_grow_by_exactly_1()
    {
        Assert.Equal([1UL, 2, 3, 4], await AppendAsync("alice", 4));

        var page = await ReadAsync("alice");
        Assert.Equal(4UL, page.Offset);
        Assert.Equal(0UL, page.Acked);
        Assert.Equal([1UL, 2, 3, 4], Offsets(page));
        Assert.Equal(Json(2), page.Publications[1].Data);
    }

    [Fact]
    public async Task An_inbox_that_never_held_anything_is_empty_and_ack_and_delete_leave_it_so()
    {
        var page = await ReadAsync("nobody");
        var acked = await AckAsync("nobody", 5);
        await Store.DeleteAsync("nobody", null).DefaultTimeout();

        Assert.Equal((0UL, 0UL), (page.Offset, page.Acked));
        Assert.Empty(page.Publications);
        Assert.Equal(0UL, acked);
        Assert.Equal(1UL, await Store.AppendAsync("nobody", Json(1), Keep).DefaultTimeout());
        Assert.Equal(0UL, (await ReadAsync("nobody")).Acked);
    }

    [Fact]
    public async Task The_default_read_starts_after_the_acknowledged_offset()
    {
        await AppendAsync("alice", 5);

        Assert.Equal(3UL, await AckAsync("alice", 3));
        var page = await ReadAsync("alice");

        Assert.Equal([4UL, 5], Offsets(page));
        Assert.Equal(3UL, page.Acked);
        Assert.Equal(5UL, page.Offset);
    }

    [Fact]
    public async Task A_read_from_an_explicit_offset_may_return_acknowledged_entries_at_most_limit()
    {
        await AppendAsync("alice", 5);
        await AckAsync("alice", 4);

        var window = await ReadAsync("alice", since: 1, limit: 2);
        Assert.Equal([2UL, 3], Offsets(window));
        Assert.Empty((await ReadAsync("alice", limit: 0)).Publications);
        Assert.Empty((await ReadAsync("alice", since: 5)).Publications);
    }

    [Fact]
    public async Task The_acknowledged_offset_only_grows()
    {
        await AppendAsync("alice", 5);

        Assert.Equal(3UL, await AckAsync("alice", 3));
        Assert.Equal(3UL, await AckAsync("alice", 1));
        Assert.Equal(3UL, (await ReadAsync("alice")).Acked);
    }

    [Fact]
    public async Task The_acknowledged_offset_is_capped_at_the_newest_so_later_entries_stay_unread()
    {
        await AppendAsync("alice", 2);

        Assert.Equal(2UL, await AckAsync("alice", 10));
        Assert.Equal(2UL, await AckAsync("alice", ulong.MaxValue));
        await Store.AppendAsync("alice", Json(3), Keep).DefaultTimeout();

        var page = await ReadAsync("alice");
        Assert.Equal([3UL], Offsets(page));
        Assert.Equal(2UL, page.Acked);
    }

    [Fact]
    public async Task Delete_up_to_an_offset_removes_those_entries_and_offsets_keep_growing()
    {
        await AppendAsync("alice", 5);

        await Store.DeleteAsync("alice", 2).DefaultTimeout();

        var remaining = await ReadAsync("alice", since: 0);
        Assert.Equal([3UL, 4, 5], Offsets(remaining));
        Assert.Equal(6UL, await Store.AppendAsync("alice", Json(6), Keep).DefaultTimeout());
    }

    [Fact]
    public async Task Delete_all_empties_the_inbox_and_keeps_offsets_and_acknowledgement()
    {
        await AppendAsync("alice", 5);
        await AckAsync("alice", 2);

        await Store.DeleteAsync("alice", null).DefaultTimeout();
        var emptied = await ReadAsync("alice", since: 0);
        var next = await Store.AppendAsync("alice", Json(6), Keep).DefaultTimeout();

        Assert.Empty(emptied.Publications);
        Assert.Equal((5UL, 2UL), (emptied.Offset, emptied.Acked));
        Assert.Equal(6UL, next);
        var unread = await ReadAsync("alice");
        Assert.Equal([6UL], Offsets(unread));
    }

    [Fact]
    public async Task Keeps_only_the_newest_Size_entries()
    {
        await AppendAsync("alice", 5, new RetentionLimits(3, TimeSpan.FromDays(1)));

        var page = await ReadAsync("alice");

        Assert.Equal([3UL, 4, 5], Offsets(page));
        Assert.Equal(5UL, page.Offset);
    }

    [Fact]
    public async Task Size_limits_keep_applying_after_a_delete()
    {
        var limits = new RetentionLimits(3, TimeSpan.FromDays(1));
        await AppendAsync("alice", 5, limits);
        await Store.DeleteAsync("alice", null).DefaultTimeout();
        await AppendAsync("alice", 5, limits);
        await Store.DeleteAsync("alice", 8).DefaultTimeout();
        await AppendAsync("alice", 3, limits);

        var page = await ReadAsync("alice", since: 0);
        Assert.Equal([11UL, 12, 13], Offsets(page));
    }

    [Fact]
    public async Task Entries_older_than_Ttl_are_not_served_even_before_the_next_entry()
    {
        var limits = new RetentionLimits(100, TimeSpan.FromMinutes(1));
        await AppendAsync("alice", 2, limits);
        Time.Advance(TimeSpan.FromSeconds(30));
        await Store.AppendAsync("alice", Json(3), limits).DefaultTimeout();

        Time.Advance(TimeSpan.FromSeconds(45));
        var page = await ReadAsync("alice");
        Time.Advance(TimeSpan.FromMinutes(1));
        var later = await ReadAsync("alice");

        Assert.Equal([3UL], Offsets(page));
        Assert.Empty(later.Publications);
        Assert.Equal(3UL, later.Offset);
        Assert.Equal(4UL, await Store.AppendAsync("alice", Json(4), limits).DefaultTimeout());
    }

    [Fact]
    public async Task Concurrent_appends_to_one_inbox_get_exactly_1_to_N()
    {
        const int count = 400;
        var appends = Enumerable.Range(1, count)
            .Select(i => Task.Run(async () => await Store.AppendAsync("busy", Json(i), Keep)))
            .ToArray();

        var offsets = await Task.WhenAll(appends).DefaultTimeout();

        Assert.Equal(Enumerable.Range(1, count).Select(i => (ulong)i), offsets.Order());
        Assert.Equal(Enumerable.Range(1, count).Select(i => (ulong)i), Offsets(await ReadAsync("busy")));
    }

    [Fact]
    public async Task Inboxes_are_independent()
    {
        await AppendAsync("alice", 3);
        await AppendAsync("bob", 2);

        await AckAsync("alice", 3);
        await Store.DeleteAsync("bob", null).DefaultTimeout();

        var alice = await ReadAsync("alice", since: 0);
        var bob = await ReadAsync("bob", since: 0);
        Assert.Equal([1UL, 2, 3], Offsets(alice));
        Assert.Equal((3UL, 3UL), (alice.Offset, alice.Acked));
        Assert.Empty(bob.Publications);
        Assert.Equal((2UL, 0UL), (bob.Offset, bob.Acked));
        Assert.Equal(4UL, await Store.AppendAsync("alice", Json(4), Keep).DefaultTimeout());
        Assert.Equal(3UL, await Store.AppendAsync("bob", Json(3), Keep).DefaultTimeout());
    }

    [Fact]
    public async Task An_entry_s_event_name_is_read_back_as_given_and_one_without_reads_without()
    {
        string?[] events = ["order.shipped", null, "App\\Events\\Order|Paid %7C \"x\"", "注文"];
        foreach (var (name, i) in events.Select((e, i) => (e, i)))
        {
            await Store.AppendAsync("alice", Json(i + 1), Keep, name).DefaultTimeout();
        }
        await AckAsync("alice", 2);

        Assert.Equal(events[2..], (await ReadAsync("alice")).Publications.Select(p => p.Event));
        Assert.Equal(events, (await ReadAsync("alice", since: 0)).Publications.Select(p => p.Event));
    }
}
