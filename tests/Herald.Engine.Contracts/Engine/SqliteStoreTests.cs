using System.Text;
using Herald.Core.Engine;
using Herald.Sqlite;
using Microsoft.Data.Sqlite;

namespace Herald.Engine.Contracts.Engine;

/// <summary>What only the durable store promises: data outlives the process, failures are reported and pass, writes are batched.</summary>
public sealed class SqliteStoreTests : IDisposable
{
    private static readonly RetentionLimits Keep = new(10_000, TimeSpan.FromHours(1));

    private readonly TempDirectory _directory = new();
    private readonly CapturedLogs _logs = new();
    private readonly ManualTime _time = new();
    private readonly List<SqliteStore> _opened = [];

    private SqliteStore Open()
    {
        var store = SqliteStore.Open(_directory.Path, _logs, _time);
        _opened.Add(store);
        return store;
    }

    private static byte[] Json(int value) => Encoding.UTF8.GetBytes($$"""{"n":{{value}}}""");

    public void Dispose()
    {
        foreach (var store in _opened)
        {
            store.Dispose();
        }
        _directory.Dispose();
    }

    [Fact]
    public async Task History_survives_closing_and_reopening_with_the_same_epoch_and_offsets_continuing()
    {
        var last = default(StreamPosition);
        await using (var store = Open())
        {
            for (var i = 1; i <= 3; i++)
            {
                last = await store.History.AppendAsync("orders", Json(i), Keep).DefaultTimeout();
            }
            await store.History.AppendAsync("gone", Json(1), Keep).DefaultTimeout();
            await store.History.RemoveAsync("gone").DefaultTimeout();
        }

        await using var reopened = Open();
        var page = await reopened.History.ReadAsync("orders", 0, 100, newestFirst: false).DefaultTimeout();
        var next = await reopened.History.AppendAsync("orders", Json(4), Keep).DefaultTimeout();

        Assert.Equal(last, page.Position);
        Assert.Equal([1UL, 2, 3], page.Publications.Select(p => p.Offset));
        Assert.Equal(Json(3), page.Publications[2].Data);
        Assert.Equal(new StreamPosition(4, last.Epoch), next);
        Assert.Equal(0UL, (await reopened.History.GetPositionAsync("gone").DefaultTimeout()).Offset);
        Assert.Empty(_logs.Errors);
    }

    [Fact]
    public async Task Inboxes_survive_closing_and_reopening_with_acknowledgement_and_deletes_kept()
    {
        await using (var store = Open())
        {
            for (var i = 1; i <= 4; i++)
            {
                await store.Inbox.AppendAsync("alice", Json(i), Keep).DefaultTimeout();
            }
            await store.Inbox.AckAsync("alice", 2).DefaultTimeout();
            await store.Inbox.DeleteAsync("alice", 1).DefaultTimeout();
        }

        await using var reopened = Open();
        var unread = await reopened.Inbox.ReadAsync("alice", null, 100).DefaultTimeout();
        var all = await reopened.Inbox.ReadAsync("alice", 0, 100).DefaultTimeout();

        Assert.Equal((4UL, 2UL), (unread.Offset, unread.Acked));
        Assert.Equal([3UL, 4], unread.Publications.Select(p => p.Offset));
        Assert.Equal([2UL, 3, 4], all.Publications.Select(p => p.Offset));
        Assert.Equal(5UL, await reopened.Inbox.AppendAsync("alice", Json(5), Keep).DefaultTimeout());
    }

    [Fact]
    public async Task A_channel_never_published_to_reserves_its_first_epoch_without_writing()
    {
        var store = Open();

        var position = await store.History.GetPositionAsync("quiet").DefaultTimeout();
        var page = await store.History.ReadAsync("quiet", 0, 10, newestFirst: true).DefaultTimeout();
        await store.Inbox.AckAsync("nobody", 3).DefaultTimeout();
        Assert.Equal(0L, CountRows("streams"));
        var first = await store.History.AppendAsync("quiet", Json(1), Keep).DefaultTimeout();

        Assert.Equal(0UL, position.Offset);
        Assert.NotEqual("", position.Epoch);
        Assert.Equal(position, page.Position);
        Assert.Equal(new StreamPosition(1, position.Epoch), first);
    }

    [Fact]
    public async Task A_failed_write_throws_StoreUnavailable_assigns_nothing_and_the_store_works_once_the_cause_is_gone()
    {
        var store = Open();
        Assert.Equal(1UL, (await store.History.AppendAsync("orders", Json(1), Keep).DefaultTimeout()).Offset);
        var pages = await store.Writer.WriteAsync(session => session.Scalar("PRAGMA page_count"), default).DefaultTimeout();
        await store.Writer.WriteAsync(session => session.Scalar($"PRAGMA max_page_count = {pages}"), default).DefaultTimeout();

        var big = Encoding.UTF8.GetBytes("\"" + new string('x', 64 * 1024) + "\"");
        var failure = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.History.AppendAsync("orders", big, Keep).DefaultTimeout());
        var again = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.Inbox.AppendAsync("alice", big, Keep).DefaultTimeout());
        var readable = await store.History.ReadAsync("orders", 0, 10, newestFirst: false).DefaultTimeout();

        await store.Writer.WriteAsync(session => session.Scalar("PRAGMA max_page_count = 1073741823"), default).DefaultTimeout();
        var next = await store.History.AppendAsync("orders", big, Keep).DefaultTimeout();

        Assert.Contains("full", failure.Message, StringComparison.Ordinal);
        Assert.Contains(store.DatabasePath, failure.Message, StringComparison.Ordinal);
        Assert.IsType<SqliteException>(again.InnerException);
        Assert.Equal(1UL, readable.Position.Offset);
        Assert.Equal(2UL, next.Offset);
        Assert.Equal(1UL, await store.Inbox.AppendAsync("alice", Json(1), Keep).DefaultTimeout());
        Assert.Single(_logs.Errors, e => e.EventId == 3002);
        Assert.Contains(_logs.Entries, e => e.EventId == 3004);
    }

    [Fact]
    public async Task Group_commit_stores_many_concurrent_appends_in_far_fewer_transactions()
    {
        const int count = 2000;
        var store = Open();

        var appends = Enumerable.Range(0, count)
            .Select(i => Task.Run(async () => (Channel: "c" + (i % 8), Position: await store.History.AppendAsync("c" + (i % 8), Json(i), Keep))))
            .ToArray();
        var results = await Task.WhenAll(appends).DefaultTimeout();

        Assert.All(results.GroupBy(r => r.Channel), channel =>
            Assert.Equal(Enumerable.Range(1, count / 8).Select(i => (ulong)i), channel.Select(r => r.Position.Offset).Order()));
        Assert.Equal(count, store.Writer.Operations);
        Assert.True(store.Writer.Transactions < count / 2, $"{store.Writer.Transactions} transactions for {count} appends");
    }

    [Fact]
    public async Task Trimmed_entries_are_deleted_from_disk_not_just_hidden()
    {
        var store = Open();
        for (var i = 1; i <= 10; i++)
        {
            await store.History.AppendAsync("sized", Json(i), new RetentionLimits(3, TimeSpan.FromHours(1))).DefaultTimeout();
            await store.Inbox.AppendAsync("alice", Json(i), new RetentionLimits(1000, TimeSpan.FromMinutes(1))).DefaultTimeout();
            _time.Advance(TimeSpan.FromSeconds(10));
        }

        // The last inbox append (at 90 s) dropped the entries of 0 s to 20 s; the channel keeps its 3 newest.
        Assert.Equal(3L + 7L, CountRows("entries"));
    }

    [Fact]
    public async Task Reads_after_closing_throw_StoreUnavailable()
    {
        var store = Open();
        await store.History.AppendAsync("orders", Json(1), Keep).DefaultTimeout();
        await store.DisposeAsync();

        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.History.ReadAsync("orders", 0, 10, newestFirst: false).DefaultTimeout());
        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.Inbox.ReadAsync("alice", null, 10).DefaultTimeout());
    }

    [Fact]
    public async Task Expired_entries_of_streams_nobody_appends_to_are_swept_from_disk_and_positions_stay()
    {
        var store = Open();
        var shortLived = new RetentionLimits(100, TimeSpan.FromMinutes(1));
        var position = await store.History.AppendAsync("stale", Json(1), shortLived).DefaultTimeout();
        await store.Inbox.AppendAsync("alice", Json(1), shortLived).DefaultTimeout();
        await store.History.AppendAsync("fresh", Json(1), Keep).DefaultTimeout();

        _time.Advance(TimeSpan.FromMinutes(2));
        var swept = await store.Writer.SweepNowAsync().DefaultTimeout();

        Assert.Equal(2, swept);
        Assert.Equal(1L, CountRows("entries"));
        Assert.Equal(position, await store.History.GetPositionAsync("stale").DefaultTimeout());
        Assert.Equal(2UL, await store.Inbox.AppendAsync("alice", Json(2), shortLived).DefaultTimeout());
    }

    [Fact]
    public async Task The_writer_sweeps_expired_entries_every_five_minutes_on_the_store_s_clock()
    {
        var store = Open();
        await store.History.AppendAsync("stale", Json(1), new RetentionLimits(100, TimeSpan.FromMinutes(1))).DefaultTimeout();

        // The writer sweeps after a batch once due; the second write of each pair completes only after that sweep ran.
        _time.Advance(TimeSpan.FromMinutes(2));
        await store.History.AppendAsync("fresh", Json(1), Keep).DefaultTimeout();
        await store.History.AppendAsync("fresh", Json(2), Keep).DefaultTimeout();
        var beforeDue = CountRows("entries");
        _time.Advance(TimeSpan.FromMinutes(3));
        await store.History.AppendAsync("fresh", Json(3), Keep).DefaultTimeout();
        await store.History.AppendAsync("fresh", Json(4), Keep).DefaultTimeout();
        var afterDue = CountRows("entries");

        Assert.Equal(3L, beforeDue); // expired, but the last sweep (at opening) was only two minutes ago
        Assert.Equal(4L, afterDue); // five minutes passed on the clock the store was given, however little on the machine's
    }

    [Fact]
    public void A_second_store_on_the_same_directory_is_refused_with_a_clear_message()
    {
        using var first = Open();

        var error = Assert.Throws<SqliteStoreException>(() => SqliteStore.Open(_directory.Path, _logs, _time));

        Assert.Contains("in use by another Herald process", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_not_a_database_is_refused_with_a_clear_message()
    {
        File.WriteAllText(Path.Combine(_directory.Path, SqliteStore.FileName), new string('?', 8192));

        var error = Assert.Throws<SqliteStoreException>(() => SqliteStore.Open(_directory.Path, _logs, _time));

        Assert.Contains("move the file away", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_data_directory_that_cannot_be_created_is_refused_with_a_clear_message()
    {
        var file = Path.Combine(_directory.Path, "a-file");
        File.WriteAllText(file, "");

        var error = Assert.Throws<SqliteStoreException>(() => SqliteStore.Open(Path.Combine(file, "data"), _logs, _time));

        Assert.Contains("data_dir", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Writes_after_closing_throw_StoreUnavailable()
    {
        var store = Open();
        await store.DisposeAsync();

        await Assert.ThrowsAsync<StoreUnavailableException>(() => store.History.AppendAsync("orders", Json(1), Keep).DefaultTimeout());
    }

    [Fact]
    public async Task The_database_uses_WAL_and_stores_raw_JSON_with_unix_ms_times()
    {
        await using (var store = Open())
        {
            await store.History.AppendAsync("orders", Json(7), Keep).DefaultTimeout();
        }

        using var connection = new SqliteConnection($"Data Source={Path.Combine(_directory.Path, SqliteStore.FileName)};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT (SELECT journal_mode FROM pragma_journal_mode), data, time FROM entries";
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal("wal", reader.GetString(0));
        Assert.Equal(Json(7), (byte[])reader.GetValue(1));
        Assert.Equal(_time.GetUtcNow().ToUnixTimeMilliseconds(), reader.GetInt64(2));
    }

    [Fact]
    public async Task A_database_of_schema_1_opens_reads_as_before_and_keeps_event_names_from_then_on()
    {
        // A database exactly as the first schema wrote it (before event names): a channel with two entries, an inbox.
        var path = Path.Combine(_directory.Path, SqliteStore.FileName);
        using (var old = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            old.Open();
            using var create = old.CreateCommand();
            create.CommandText = """
                PRAGMA journal_mode = WAL;
                CREATE TABLE streams (id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, name TEXT NOT NULL, epoch TEXT NOT NULL,
                    top INTEGER NOT NULL, acked INTEGER NOT NULL DEFAULT 0, size_limit INTEGER NOT NULL, ttl_ms INTEGER NOT NULL,
                    last_time INTEGER NOT NULL, UNIQUE (kind, name));
                CREATE TABLE entries (stream INTEGER NOT NULL, seq INTEGER NOT NULL, time INTEGER NOT NULL, data BLOB NOT NULL,
                    PRIMARY KEY (stream, seq));
                INSERT INTO streams VALUES (1, 0, 'orders', 'old-epoch', 2, 0, 100, 3600000, $now);
                INSERT INTO streams VALUES (2, 1, 'alice', '', 1, 0, 100, 3600000, $now);
                INSERT INTO entries VALUES (1, 1, $now, CAST('{"n":1}' AS BLOB)), (1, 2, $now, CAST('{"n":2}' AS BLOB)), (2, 1, $now, CAST('{"n":3}' AS BLOB));
                PRAGMA user_version = 1;
                """;
            create.Parameters.AddWithValue("$now", _time.GetUtcNow().ToUnixTimeMilliseconds());
            create.ExecuteNonQuery();
        }

        await using (var store = Open())
        {
            var before = await store.History.ReadAsync("orders", 0, 10, newestFirst: false).DefaultTimeout();
            Assert.Equal(new StreamPosition(2, "old-epoch"), before.Position);
            Assert.Equal(["{\"n\":1}", "{\"n\":2}"], before.Publications.Select(p => Encoding.UTF8.GetString(p.Data)));
            Assert.All(before.Publications, p => Assert.Null(p.Event));
            Assert.Null(Assert.Single((await store.Inbox.ReadAsync("alice", null, 10).DefaultTimeout()).Publications).Event);

            Assert.Equal(new StreamPosition(3, "old-epoch"), await store.History.AppendAsync("orders", Json(4), Keep, "order.shipped").DefaultTimeout());
            Assert.Equal(2UL, await store.Inbox.AppendAsync("alice", Json(5), Keep, "note").DefaultTimeout());
        }

        await using (var reopened = Open())
        {
            Assert.Equal([null, null, "order.shipped"], (await reopened.History.ReadAsync("orders", 0, 10, newestFirst: false).DefaultTimeout()).Publications.Select(p => p.Event));
            Assert.Equal([null, "note"], (await reopened.Inbox.ReadAsync("alice", null, 10).DefaultTimeout()).Publications.Select(p => p.Event));
        }
        using var check = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        check.Open();
        using var version = check.CreateCommand();
        version.CommandText = "PRAGMA user_version";
        Assert.Equal(2L, (long)version.ExecuteScalar()!);
    }

    private long CountRows(string table)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(_directory.Path, SqliteStore.FileName)};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM {table}";
        return (long)command.ExecuteScalar()!;
    }
}
