using BenchmarkDotNet.Attributes;
using Herald.Core.Engine;

namespace Herald.Benchmarks;

/// <summary>Presence of a channel with 10,000 members: the cost of a join plus a leave, of stats, and of a page.</summary>
[MemoryDiagnoser]
[ShortRunJob]
public class PresenceBenchmarks
{
    private readonly MemoryPresenceStore _store = new();
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        for (var i = 0; i < 10_000; i++)
        {
            _store.AddAsync("big", new PresenceEntry($"c{i:D6}", $"u{i % 5000}", null)).AsTask().Wait();
        }
    }

    [Benchmark(Description = "join + leave (10k members)")]
    public async Task JoinLeave()
    {
        var id = $"x{_next++ % 1000:D6}";
        await _store.AddAsync("big", new PresenceEntry(id, "u-bench", null));
        await _store.RemoveAsync("big", id, "u-bench");
    }

    [Benchmark(Description = "stats (10k members)")]
    public ValueTask<PresenceStats> Stats() => _store.GetStatsAsync("big");

    [Benchmark(Description = "page of 100 mid-channel (10k members)")]
    public ValueTask<PresencePage> Page() => _store.GetAsync("big", "c005000", 100);
}
