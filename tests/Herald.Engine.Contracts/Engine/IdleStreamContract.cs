using Herald.Engine.Contracts.Infrastructure;
using System.Text;
using Herald.Core.Engine;

namespace Herald.Engine.Contracts.Engine;

/// <summary>
/// The guarantees of <see cref="IForgetsIdleStreams"/> on the single-node history stores: state for names with nothing
/// stored is forgotten once idle and unsubscribed, while a stream's epoch never changes as long as it has publications.
/// </summary>
public abstract class IdleStreamContract
{
    protected static readonly RetentionLimits Keep = new(100, TimeSpan.FromMinutes(5));

    protected ManualTime Time { get; } = new();

    protected abstract IHistoryStore CreateStore(TimeProvider time);

    protected static byte[] Json(int value) => Encoding.UTF8.GetBytes($$"""{"n":{{value}}}""");

    [Fact]
    public async Task Reservations_of_names_never_published_are_forgotten_when_idle_and_the_count_levels_off()
    {
        var store = CreateStore(Time);
        var forgetting = (IForgetsIdleStreams)store;

        for (var round = 0; round < 5; round++)
        {
            for (var i = 0; i < 200; i++)
            {
                await store.GetPositionAsync($"r{round}-n{i}").DefaultTimeout();
                await store.ReadAsync($"r{round}-m{i}", 0, 10, newestFirst: false).DefaultTimeout();
            }
            Assert.Equal(400, forgetting.IdleStateCount);
            Assert.Equal(400, forgetting.ForgetIdle(TimeSpan.Zero, _ => false));
            Assert.Equal(0, forgetting.IdleStateCount);
        }
    }

    [Fact]
    public async Task A_reservation_is_kept_while_its_channel_is_in_use_or_was_used_within_the_idle_time()
    {
        var store = CreateStore(Time);
        var forgetting = (IForgetsIdleStreams)store;
        var subscribed = (await store.GetPositionAsync("subscribed").DefaultTimeout()).Epoch;
        var recent = (await store.GetPositionAsync("recent").DefaultTimeout()).Epoch;

        var withinIdleTime = forgetting.ForgetIdle(TimeSpan.FromHours(1), _ => false);
        var recentAgain = await store.GetPositionAsync("recent").DefaultTimeout();
        var allButSubscribed = forgetting.ForgetIdle(TimeSpan.Zero, channel => channel == "subscribed");
        var first = await store.AppendAsync("subscribed", Json(1), Keep).DefaultTimeout();

        Assert.Equal(0, withinIdleTime);
        Assert.Equal(recent, recentAgain.Epoch);
        Assert.Equal(1, allButSubscribed);
        Assert.Equal(subscribed, first.Epoch); // the subscriber recovers from the epoch it was given
        Assert.Equal(1UL, first.Offset);
    }

    [Fact]
    public async Task Idle_time_is_measured_on_the_store_s_clock_from_the_last_use()
    {
        var store = CreateStore(Time);
        var forgetting = (IForgetsIdleStreams)store;
        var idle = TimeSpan.FromHours(1);
        var quiet = (await store.GetPositionAsync("quiet").DefaultTimeout()).Epoch;
        await store.GetPositionAsync("used-again").DefaultTimeout();

        Time.Advance(TimeSpan.FromMinutes(40));
        var usedAgain = (await store.ReadAsync("used-again", 0, 10, newestFirst: false).DefaultTimeout()).Position.Epoch;
        Time.Advance(TimeSpan.FromMinutes(19));
        var beforeAnHour = forgetting.ForgetIdle(idle, _ => false);
        Time.Advance(TimeSpan.FromMinutes(1));
        var afterAnHour = forgetting.ForgetIdle(idle, _ => false);
        var quietNow = (await store.GetPositionAsync("quiet").DefaultTimeout()).Epoch;
        Time.Advance(TimeSpan.FromMinutes(40));
        var usedAgainAfterAnHour = forgetting.ForgetIdle(idle, _ => false); // the new "quiet" reservation is 40 minutes old

        Assert.Equal(0, beforeAnHour);
        Assert.Equal(1, afterAnHour); // an hour passed on the clock the store was given, however little on the machine's
        Assert.NotEqual(quiet, quietNow);
        Assert.Equal(1, usedAgainAfterAnHour);
        Assert.NotEqual(usedAgain, (await store.GetPositionAsync("used-again").DefaultTimeout()).Epoch);
    }

    [Fact]
    public async Task A_forgotten_reservation_is_replaced_by_a_new_epoch()
    {
        var store = CreateStore(Time);
        var old = (await store.GetPositionAsync("gone").DefaultTimeout()).Epoch;

        ((IForgetsIdleStreams)store).ForgetIdle(TimeSpan.Zero, _ => false);
        var now = await store.GetPositionAsync("gone").DefaultTimeout();
        var first = await store.AppendAsync("gone", Json(1), Keep).DefaultTimeout();

        Assert.NotEqual(old, now.Epoch); // a client back with the old epoch gets recovered:false, as after a restart
        Assert.Equal(now.Epoch, first.Epoch);
    }

    [Fact]
    public async Task A_stream_with_publications_keeps_its_epoch_and_offsets_however_often_idle_state_is_forgotten()
    {
        var store = CreateStore(Time);
        var forgetting = (IForgetsIdleStreams)store;
        var positions = new List<StreamPosition>();
        for (var i = 1; i <= 5; i++)
        {
            positions.Add(await store.AppendAsync("kept", Json(i), Keep).DefaultTimeout());
            forgetting.ForgetIdle(TimeSpan.Zero, _ => false);
        }

        var page = await store.ReadAsync("kept", 0, 100, newestFirst: false).DefaultTimeout();

        Assert.All(positions, p => Assert.Equal(positions[0].Epoch, p.Epoch));
        Assert.Equal([1UL, 2, 3, 4, 5], positions.Select(p => p.Offset));
        Assert.Equal(positions[^1], page.Position);
        Assert.Equal(5, page.Publications.Count);
    }
}

public sealed class MemoryIdleStreamTests : IdleStreamContract
{
    protected override IHistoryStore CreateStore(TimeProvider time) => new MemoryHistoryStore(time);

    [Fact]
    public async Task A_memory_stream_whose_publications_all_expired_is_forgotten_and_its_epoch_never_reused()
    {
        var store = (MemoryHistoryStore)CreateStore(Time);
        var old = await store.AppendAsync("expiring", Json(1), new RetentionLimits(10, TimeSpan.FromMinutes(1))).DefaultTimeout();

        var whileStored = store.ForgetIdle(TimeSpan.Zero, _ => false);
        Time.Advance(TimeSpan.FromMinutes(2));
        var whileSubscribed = store.ForgetIdle(TimeSpan.Zero, _ => true);
        var afterExpiry = store.ForgetIdle(TimeSpan.Zero, _ => false);
        var next = await store.AppendAsync("expiring", Json(2), Keep).DefaultTimeout();

        Assert.Equal(0, whileStored);
        Assert.Equal(0, whileSubscribed);
        Assert.Equal(1, afterExpiry);
        Assert.Equal(1UL, next.Offset);
        Assert.NotEqual(old.Epoch, next.Epoch); // offsets restart at 1 only under a new epoch
    }

    [Fact]
    public async Task A_memory_stream_whose_publications_expired_goes_only_after_the_idle_time_on_the_store_s_clock()
    {
        var store = (MemoryHistoryStore)CreateStore(Time);
        await store.AppendAsync("expiring", Json(1), new RetentionLimits(10, TimeSpan.FromMinutes(1))).DefaultTimeout();

        Time.Advance(TimeSpan.FromMinutes(59));
        var expiredButRecent = store.ForgetIdle(TimeSpan.FromHours(1), _ => false);
        Time.Advance(TimeSpan.FromMinutes(1));
        var expiredAndIdle = store.ForgetIdle(TimeSpan.FromHours(1), _ => false);

        Assert.Equal(0, expiredButRecent);
        Assert.Equal(1, expiredAndIdle);
        Assert.Equal(0, store.IdleStateCount);
    }
}

public sealed class SqliteIdleStreamTests : IdleStreamContract, IDisposable
{
    private readonly SqliteStoreOnDisk _sqlite = new();

    protected override IHistoryStore CreateStore(TimeProvider time) => _sqlite.Open(time).History;

    public void Dispose() => _sqlite.Dispose();
}
