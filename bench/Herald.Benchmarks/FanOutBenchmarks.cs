using System.Text;
using BenchmarkDotNet.Attributes;
using Herald.Core;
using Herald.Core.Connections;
using Herald.Core.Routing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Benchmarks;

/// <summary>
/// One publish routed to N in-process plain connections by attributes: time per publish, and bytes allocated per
/// publish, which should not grow with N (one encoded frame shared by every recipient).
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class FanOutBenchmarks
{
    private Node _node = null!;
    private PublishRequest _everyone = null!;
    private PublishRequest _oneInTen = null!;

    [Params(1_000, 10_000)]
    public int Connections { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _node = new Node(new NodeOptions { ClientMessageRate = 0 }, NullLogger<Node>.Instance);
        for (var i = 0; i < Connections; i++)
        {
            var connection = _node.Open(new NullTransport(), ConnectionKind.Plain, "127.0.0.1:1");
            _node.OnTextMessageAsync(connection, Encoding.UTF8.GetBytes($$"""{"school_id":"{{i % 10}}","class_id":"{{i % 100}}"}""")).AsTask().Wait();
        }
        PublishRequestParser.TryParse("""{"where":{},"data":{"order":42,"text":"a message of about one hundred bytes for every connection"}}"""u8, out _everyone, out _, out _);
        PublishRequestParser.TryParse("""{"where":{"school_id":"3"},"data":{"order":42,"text":"a message for one school in ten"}}"""u8, out _oneInTen, out _, out _);
    }

    [GlobalCleanup]
    public void Cleanup() => _node.Dispose();

    [Benchmark(Description = "broadcast (where {})")]
    public ValueTask<PublishResult> Broadcast() => _node.PublishAsync(_everyone);

    [Benchmark(Description = "targeted (1 in 10 match)")]
    public ValueTask<PublishResult> Targeted() => _node.PublishAsync(_oneInTen);
}
