using System.Collections.Concurrent;

namespace Herald.Core.Routing;

/// <summary>
/// Remembers publishes by idempotency key for a window: the first publish with a key runs, a repeat (even one that
/// arrives while the first is still running) gets the first one's result marked as a duplicate. Keys live in memory;
/// a restart forgets them.
/// </summary>
internal sealed class IdempotencyCache(TimeSpan window, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public async ValueTask<PublishResult> RunOnceAsync(string key, Func<Task<PublishResult>> publish)
    {
        var now = time.GetUtcNow();
        var mine = new Entry(now);
        var entry = _entries.AddOrUpdate(key, mine, (_, existing) => now - existing.CreatedAt > window ? mine : existing);
        if (!ReferenceEquals(entry, mine))
        {
            return await entry.Result.Task.ConfigureAwait(false) with { Duplicate = true, Recipients = 0 };
        }
        try
        {
            var result = await publish().ConfigureAwait(false);
            if (!result.Succeeded)
            {
                _entries.TryRemove(new KeyValuePair<string, Entry>(key, mine)); // a failed publish may be retried
            }
            mine.Result.TrySetResult(result);
            return result;
        }
        catch (Exception ex)
        {
            _entries.TryRemove(new KeyValuePair<string, Entry>(key, mine));
            mine.Result.TrySetException(ex);
            throw;
        }
    }

    /// <summary>Forgets keys older than the window.</summary>
    public void Sweep()
    {
        var now = time.GetUtcNow();
        foreach (var (key, entry) in _entries)
        {
            if (now - entry.CreatedAt > window && entry.Result.Task.IsCompleted)
            {
                _entries.TryRemove(new KeyValuePair<string, Entry>(key, entry));
            }
        }
    }

    public int Count => _entries.Count;

    private sealed class Entry(DateTimeOffset createdAt)
    {
        public DateTimeOffset CreatedAt { get; } = createdAt;

        public TaskCompletionSource<PublishResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
