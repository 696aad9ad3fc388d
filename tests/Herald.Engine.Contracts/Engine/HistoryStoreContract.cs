using System.Text;
using Herald.Core.Engine;

namespace Herald.Engine.Contracts.Engine;

/// <summary>
/// The guarantees of <see cref="IHistoryStore"/>, written once and run against every implementation. Each test gets a
/// fresh store on a <see cref="ManualTime"/> clock.
/// </summary>
public abstract class HistoryStoreContract
{
    protected static readonly RetentionLimits Keep = new(10_000, TimeSpan.FromHours(1));

    private readonly Lazy<IHistoryStore> _store;

    protected HistoryStoreContract()
    {
        _store = new(() => CreateStore(Time));
    }

    protected ManualTime Time { get; } = new();

    /// <summary>The store under test, created on first use (by whichever task gets there first).</summary>
    protected IHistoryStore Store => _store.Value;

    /// <summary>A new, empty store reading the clock <paramref name="time"/>.</summary>
    protected abstract IHistoryStore CreateStore(TimeProvider time);

    protected static byte[] Json(int value) => Encoding.UTF8.GetBytes($$"""{"n":{{value}}}""");

    protected async Task<List<StreamPosition>> AppendAsync(string channel, int count, RetentionLimits? limits = null)
    {
        var positions = new List<StreamPosition>();
        for (var i = 0; i < count; i++)
        {
            positions.Add(await Store.AppendAsync(channel, Json(i + 1), limits ?? Keep).DefaultTimeout());
        }
        return positions;
    }

    protected Task<HistoryPage> ReadAsync(string channel, ulong since = 0, int limit = 100_000, bool newestFirst = false) =>
        Store.ReadAsync(channel, since, limit, newestFirst).DefaultTimeout();

    protected static ulong[] Offsets(HistoryPage page) => [.. page.Publications.Select(p => p.Offset)];

    [Fact]
    public async Task Offsets_start_at_1_and_grow_by_exactly_1_under_one_epoch()
    {
        var positions = await AppendAsync("orders", 5);

        Assert.Equal([1UL, 2, 3, 4, 5], positions.Select(p => p.Offset));
        Assert.NotEmpty(positions[0].Epoch);
        Assert.All(positions, p => Assert.Equal(positions[0].Epoch, p.Epoch));
        Assert.Equal(positions[^1], await Store.GetPositionAsync("orders").DefaultTimeout());
        Assert.Equal(positions[^1], (await ReadAsync("orders")).Position);
    }

    [Fact]
    public async Task A_channel_never_published_to_is_at_offset_0_and_its_first_publication_at_1()
    {
        var before = await Store.GetPositionAsync("quiet").DefaultTimeout();
        var page = await ReadAsync("quiet");
        var first = await Store.AppendAsync("quiet", Json(1), Keep).DefaultTimeout();

        Assert.Equal(0UL, before.Offset);
        Assert.Equal(0UL, page.Position.Offset);
        Assert.Empty(page.Publications);
        Assert.Equal(0UL, page.OldestOffset);
        Assert.Equal(1UL, first.Offset);
        // Either "no stream yet" (the empty epoch, which Node reads as "from the start") or the epoch the stream keeps.
        Assert.True(before.Epoch.Length == 0 || before.Epoch == first.Epoch, $"epoch before the first publication: \"{before.Epoch}\", after: \"{first.Epoch}\"");
    }

    [Fact]
    public async Task Remove_forgets_the_history_and_the_next_publication_starts_a_new_epoch_at_offset_1()
    {
        var old = await AppendAsync("orders", 3);

        await Store.RemoveAsync("orders").DefaultTimeout();
        var afterRemove = await ReadAsync("orders");
        var next = await Store.AppendAsync("orders", Json(9), Keep).DefaultTimeout();

        Assert.Empty(afterRemove.Publications);
        Assert.Equal(0UL, afterRemove.OldestOffset);
        Assert.Equal(1UL, next.Offset);
        Assert.NotEqual(old[0].Epoch, next.Epoch);
        var fresh = await ReadAsync("orders");
        Assert.Equal([1UL], Offsets(fresh));
    }

    [Fact]
    public async Task Removing_a_channel_never_published_to_changes_nothing()
    {
        await Store.RemoveAsync("nothing").DefaultTimeout();

        Assert.Equal(1UL, (await Store.AppendAsync("nothing", Json(1), Keep).DefaultTimeout()).Offset);
    }

    [Fact]
    public async Task Reads_oldest_first_after_since_at_most_limit()
    {
        await AppendAsync("orders", 10);

        var page = await ReadAsync("orders", since: 3, limit: 4);

        Assert.Equal([4UL, 5, 6, 7], Offsets(page));
        Assert.Equal(Json(4), page.Publications[0].Data);
        Assert.Equal(10UL, page.Position.Offset);
        Assert.Equal(1UL, page.OldestOffset);
    }

    [Fact]
    public async Task Reads_newest_first_at_most_limit_and_only_after_since()
    {
        await AppendAsync("orders", 10);

        var newest = await ReadAsync("orders", limit: 3, newestFirst: true);
        Assert.Equal([10UL, 9, 8], Offsets(newest));
        var newestAfter8 = await ReadAsync("orders", since: 8, limit: 5, newestFirst: true);
        Assert.Equal([10UL, 9], Offsets(newestAfter8));
    }

    [Fact]
    public async Task A_read_with_limit_0_or_since_at_the_top_returns_the_position_and_no_publications()
    {
        var positions = await AppendAsync("orders", 3);

        var none = await ReadAsync("orders", limit: 0);
        var caughtUp = await ReadAsync("orders", since: 3);
        var beyond = await ReadAsync("orders", since: ulong.MaxValue, newestFirst: true);

        Assert.Empty(none.Publications);
        Assert.Empty(caughtUp.Publications);
        Assert.Empty(beyond.Publications);
        Assert.All(new[] { none, caughtUp, beyond }, p => Assert.Equal(positions[^1], p.Position));
    }

    [Fact]
    public async Task Keeps_the_data_bytes_and_the_time_of_each_publication()
    {
        var data = Encoding.UTF8.GetBytes("""{"text":"héllo","list":[1,2,3],"nested":{"ok":true}}""");
        var stored = Time.GetUtcNow();

        await Store.AppendAsync("orders", data, Keep).DefaultTimeout();
        var publication = Assert.Single((await ReadAsync("orders")).Publications);

        Assert.Equal(data, publication.Data);
        Assert.Equal(1UL, publication.Offset);
        Assert.InRange(publication.Time, stored.AddMilliseconds(-1), stored.AddMilliseconds(1));
    }

    [Fact]
    public async Task Keeps_only_the_newest_Size_publications()
    {
        await AppendAsync("orders", 5, new RetentionLimits(3, TimeSpan.FromHours(1)));

        var page = await ReadAsync("orders");

        Assert.Equal([3UL, 4, 5], Offsets(page));
        Assert.Equal(3UL, page.OldestOffset);
        Assert.Equal(5UL, page.Position.Offset);
    }

    [Fact]
    public async Task Smaller_limits_on_a_later_publication_apply_at_once()
    {
        await AppendAsync("orders", 10);

        await Store.AppendAsync("orders", Json(11), new RetentionLimits(2, TimeSpan.FromHours(1))).DefaultTimeout();

        var kept = await ReadAsync("orders");
        Assert.Equal([10UL, 11], Offsets(kept));
    }

    [Fact]
    public async Task Publications_older_than_Ttl_are_not_served_even_before_the_next_publication()
    {
        var limits = new RetentionLimits(100, TimeSpan.FromMinutes(1));
        await AppendAsync("orders", 2, limits);
        Time.Advance(TimeSpan.FromSeconds(30));
        var third = await Store.AppendAsync("orders", Json(3), limits).DefaultTimeout();

        Time.Advance(TimeSpan.FromSeconds(45));
        var page = await ReadAsync("orders");

        Assert.Equal([3UL], Offsets(page));
        Assert.Equal(3UL, page.OldestOffset);
        Assert.Equal(third, page.Position);
        var newestFirst = await ReadAsync("orders", newestFirst: true);
        Assert.Equal([3UL], Offsets(newestFirst));
    }

    [Fact]
    public async Task Publications_expire_oldest_first_as_time_passes()
    {
        var limits = new RetentionLimits(1000, TimeSpan.FromSeconds(60));
        await AppendAsync("orders", 10, limits);
        Time.Advance(TimeSpan.FromSeconds(40));
        await AppendAsync("orders", 10, limits);
        Time.Advance(TimeSpan.FromSeconds(40));
        await AppendAsync("orders", 10, limits);

        var afterThird = await ReadAsync("orders");
        Time.Advance(TimeSpan.FromSeconds(30));
        var later = await ReadAsync("orders");
        await Store.AppendAsync("orders", Json(31), limits).DefaultTimeout();
        var afterAppend = await ReadAsync("orders");

        Assert.Equal(Enumerable.Range(11, 20).Select(i => (ulong)i), Offsets(afterThird));
        Assert.Equal(Enumerable.Range(21, 10).Select(i => (ulong)i), Offsets(later));
        Assert.Equal(21UL, later.OldestOffset);
        Assert.Equal(Enumerable.Range(21, 11).Select(i => (ulong)i), Offsets(afterAppend));
    }

    [Fact]
    public async Task When_everything_expired_the_stream_keeps_its_offset_and_epoch()
    {
        var limits = new RetentionLimits(100, TimeSpan.FromMinutes(1));
        var positions = await AppendAsync("orders", 3, limits);

        Time.Advance(TimeSpan.FromMinutes(2));
        var expired = await ReadAsync("orders");
        var next = await Store.AppendAsync("orders", Json(4), limits).DefaultTimeout();

        Assert.Empty(expired.Publications);
        Assert.Equal(0UL, expired.OldestOffset);
        Assert.Equal(positions[^1], expired.Position);
        Assert.Equal(new StreamPosition(4, positions[0].Epoch), next);
        var afterExpiry = await ReadAsync("orders");
        Assert.Equal([4UL], Offsets(afterExpiry));
    }

    [Fact]
    public async Task Concurrent_appends_to_one_channel_get_exactly_1_to_N()
    {
        const int count = 400;
        var appends = Enumerable.Range(1, count)
            .Select(i => Task.Run(async () => await Store.AppendAsync("busy", Json(i), Keep)))
            .ToArray();

        var positions = await Task.WhenAll(appends).DefaultTimeout();
        var page = await ReadAsync("busy");

        Assert.Equal(Enumerable.Range(1, count).Select(i => (ulong)i), positions.Select(p => p.Offset).Order());
        Assert.Single(positions.Select(p => p.Epoch).Distinct());
        Assert.Equal(Enumerable.Range(1, count).Select(i => (ulong)i), Offsets(page));
        Assert.Equal(count, page.Publications.Select(p => Encoding.UTF8.GetString(p.Data)).Distinct().Count());
    }

    [Fact]
    public async Task Appends_to_one_channel_complete_in_offset_order()
    {
        const int count = 300;
        var appends = Enumerable.Range(1, count).Select(i => Store.AppendAsync("ordered", Json(i), Keep).AsTask()).ToArray();

        // Scanning from the newest down, a completed append followed by an incomplete older one is a violation;
        // completions only accumulate, so what this sees was true at once.
        var deadline = DateTime.UtcNow + Timeouts.Default;
        while (true)
        {
            Assert.True(DateTime.UtcNow < deadline, "the appends did not complete in time");
            var newerCompleted = false;
            for (var i = count - 1; i >= 0; i--)
            {
                var completed = appends[i].IsCompleted;
                Assert.False(newerCompleted && !completed, $"append {i + 1} still running while a later one completed");
                newerCompleted |= completed;
            }
            if (appends.All(a => a.IsCompleted))
            {
                break;
            }
            await Task.Yield();
        }
        var positions = await Task.WhenAll(appends).DefaultTimeout();
        Assert.Equal(Enumerable.Range(1, count).Select(i => (ulong)i), positions.Select(p => p.Offset));
    }

    [Fact]
    public async Task Channels_are_independent()
    {
        await AppendAsync("a", 3);
        await AppendAsync("b", 5, new RetentionLimits(2, TimeSpan.FromHours(1)));
        var a4 = await Store.AppendAsync("a", Json(4), Keep).DefaultTimeout();

        await Store.RemoveAsync("b").DefaultTimeout();

        Assert.Equal(4UL, a4.Offset);
        var a = await ReadAsync("a");
        Assert.Equal([1UL, 2, 3, 4], Offsets(a));
        Assert.Empty((await ReadAsync("b")).Publications);
        Assert.Equal(a4, await Store.GetPositionAsync("a").DefaultTimeout());
        Assert.Equal(1UL, (await Store.AppendAsync("b", Json(1), Keep).DefaultTimeout()).Offset);
    }

    [Fact]
    public async Task A_publication_s_event_name_is_read_back_as_given_and_one_without_reads_without()
    {
        // Separators of the stores' encodings (|, %, space, quotes) and text beyond ASCII come back as given.
        string?[] events = ["order.shipped", null, "App\\Events\\Order|Paid %7C \"x\"", "注文"];
        foreach (var (name, i) in events.Select((e, i) => (e, i)))
        {
            await Store.AppendAsync("orders", Json(i + 1), Keep, name).DefaultTimeout();
        }

        Assert.Equal(events, (await ReadAsync("orders")).Publications.Select(p => p.Event));
        Assert.Equal(events.Reverse(), (await ReadAsync("orders", newestFirst: true)).Publications.Select(p => p.Event));
        var recovered = await ReadAsync("orders", since: 2);
        Assert.Equal([3UL, 4], Offsets(recovered));
        Assert.Equal(events[2..], recovered.Publications.Select(p => p.Event));
    }
}
