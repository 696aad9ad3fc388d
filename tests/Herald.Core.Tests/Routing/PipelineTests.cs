using System.Text.Json;
using Herald.Core.Connections;
using Herald.Core.Engine;
using Herald.Core.Routing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Core.Tests.Routing;

/// <summary>Appends overlap (group commit) but live delivery stays in offset order and recovery stays exact.</summary>
public sealed class PipelineTests
{
    /// <summary>Assigns offsets in call order (like the SQLite writer) but completes appends after random delays.</summary>
    private sealed class JitteryHistoryStore : IHistoryStore
    {
        private readonly MemoryHistoryStore _inner = new();

        public async ValueTask<StreamPosition> AppendAsync(string channel, byte[] data, RetentionLimits limits, string? eventName = null, CancellationToken cancellation = default)
        {
            var position = await _inner.AppendAsync(channel, data, limits, eventName, cancellation);
            await Task.Delay(Random.Shared.Next(0, 5), cancellation);
            return position;
        }

        public ValueTask<HistoryPage> ReadAsync(string channel, ulong sinceOffset, int limit, bool newestFirst, CancellationToken cancellation = default) =>
            _inner.ReadAsync(channel, sinceOffset, limit, newestFirst, cancellation);

        public ValueTask<StreamPosition> GetPositionAsync(string channel, CancellationToken cancellation = default) => _inner.GetPositionAsync(channel, cancellation);

        public ValueTask RemoveAsync(string channel, CancellationToken cancellation = default) => _inner.RemoveAsync(channel, cancellation);
    }

    [Fact]
    public async Task Overlapping_appends_are_delivered_in_offset_order_and_a_mid_stream_recovery_sees_each_offset_once()
    {
        using var node = new Node(new NodeOptions { HistorySize = 10_000, ClientMessageRate = 0 }, NullLogger<Node>.Instance, new NodeEngine { History = new JitteryHistoryStore() });
        var (live, liveTransport) = node.Native();
        await node.OnTextMessageAsync(live, """{"id":2,"method":"subscribe","params":{"channel":"c"}}"""u8.ToArray());
        var epoch = JsonDocument.Parse(liveTransport.Texts.Last()).RootElement.GetProperty("result").GetProperty("epoch").GetString();

        const int count = 400;
        var publishes = Enumerable.Range(0, count).Select(i => Task.Run(async () =>
        {
            PublishRequestParser.TryParse(System.Text.Encoding.UTF8.GetBytes($$"""{"channel":"c","data":{{i}}}"""), out var request, out _, out _);
            return await node.PublishAsync(request);
        })).ToList();
        await Task.Delay(20);
        var (late, lateTransport) = node.Native();
        await node.OnTextMessageAsync(late, System.Text.Encoding.UTF8.GetBytes("{\"id\":3,\"method\":\"subscribe\",\"params\":{\"channel\":\"c\",\"since\":{\"offset\":0,\"epoch\":\"" + epoch + "\"}}}"));
        await Task.WhenAll(publishes);

        static List<ulong> LiveOffsets(RecordingTransport t) => t.Texts
            .Select(x => JsonDocument.Parse(x).RootElement)
            .Where(e => e.TryGetProperty("push", out var p) && p.GetString() == "pub")
            .Select(e => e.GetProperty("offset").GetUInt64()).ToList();

        Assert.Equal(Enumerable.Range(1, count).Select(i => (ulong)i), LiveOffsets(liveTransport));
        var reply = JsonDocument.Parse(lateTransport.Texts.First(t => t.StartsWith("{\"id\":3", StringComparison.Ordinal))).RootElement.GetProperty("result");
        Assert.True(reply.GetProperty("recovered").GetBoolean());
        var replayed = reply.GetProperty("publications").EnumerateArray().Select(p => p.GetProperty("offset").GetUInt64()).ToList();
        Assert.Equal(Enumerable.Range(1, count).Select(i => (ulong)i), replayed.Concat(LiveOffsets(lateTransport)));
    }

    [Fact]
    public async Task Idle_stream_pipes_are_dropped_and_a_later_publish_continues_the_stream()
    {
        using var node = new Node(new NodeOptions(), NullLogger<Node>.Instance);
        for (var i = 0; i < 100; i++)
        {
            PublishRequestParser.TryParse(System.Text.Encoding.UTF8.GetBytes($$"""{"channel":"c{{i}}","data":1}"""), out var request, out _, out _);
            await node.PublishAsync(request);
        }
        PublishRequestParser.TryParse("""{"users":["a","b"],"data":1}"""u8, out var users, out _, out _);
        await node.PublishAsync(users);
        Assert.Equal(102, node.PipeCount);

        node.SweepPipes(TimeSpan.Zero);
        PublishRequestParser.TryParse("""{"channel":"c7","data":2}"""u8, out var again, out _, out _);
        var result = await node.PublishAsync(again);

        Assert.Equal(1, node.PipeCount);
        Assert.Equal(2UL, result.Positions!["c7"].Offset);
    }
}
