using System.Text;
using BenchmarkDotNet.Attributes;
using Herald.Core;
using Herald.Core.Attributes;
using Herald.Core.Connections;
using Herald.Core.Routing;
using Herald.Protocol;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Benchmarks;

/// <summary>
/// The steps every publish or client message goes through, one by one, without sockets: reading a publish body,
/// encoding the frame (once per publish), reading a client command, and finding the connections a <c>where</c>
/// selects in the attribute index of 10,000 connections.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class HotPathBenchmarks
{
    private static readonly byte[] PublishBody =
        """{"channel":"orders","where":{"school_id":"3"},"data":{"order":42,"text":"a message of about one hundred bytes for a client"}}"""u8.ToArray();

    private static readonly byte[] Data = """{"order":42,"text":"a message of about one hundred bytes for a client"}"""u8.ToArray();

    private static readonly ReadOnlyMemory<byte> Command = """{"id":7,"method":"subscribe","params":{"channel":"orders","since":{"offset":41,"epoch":"5f79ba68"}}}"""u8.ToArray();

    private Node _node = null!;
    private WhereFilter _oneClass = null!;
    private WhereFilter _oneSchool = null!;
    private PublishRequest _toNobody = null!;

    [GlobalSetup]
    public void Setup()
    {
        _node = new Node(new NodeOptions { ClientMessageRate = 0 }, NullLogger<Node>.Instance);
        for (var i = 0; i < 10_000; i++)
        {
            var connection = _node.Open(new NullTransport(), ConnectionKind.Plain, "127.0.0.1:1");
            _node.OnTextMessageAsync(connection, Encoding.UTF8.GetBytes($$"""{"school_id":"{{i % 10}}","class_id":"{{i % 100}}"}""")).AsTask().Wait();
        }
        _oneClass = Where("""{"school_id":"3","class_id":"33"}""");
        _oneSchool = Where("""{"school_id":"3"}""");
        _toNobody = new PublishRequest([], Where("""{"school_id":"none"}"""), Data, dataIsString: false);
    }

    private static WhereFilter Where(string json)
    {
        var reader = new System.Text.Json.Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        reader.Read();
        return AttributeJson.TryReadWhere(ref reader, out var where, out var error) ? where : throw new InvalidOperationException(error);
    }

    [GlobalCleanup]
    public void Cleanup() => _node.Dispose();

    [Benchmark(Description = "parse a publish body (~130 B)")]
    public PublishRequest ParsePublish()
    {
        PublishRequestParser.TryParse(PublishBody, out var request, out _, out _);
        return request;
    }

    [Benchmark(Description = "encode a native publication frame")]
    public byte[] EncodeFrame() => ServerFrames.Publication("orders", Data, 42);

    [Benchmark(Description = "parse a client command (subscribe with since)")]
    public ClientCommand ParseCommand()
    {
        ClientCommandParser.TryParse(Command, out var command, out _);
        return command;
    }

    [Benchmark(Description = "publish by where, matching nobody (UDP ingress's publish without the socket)")]
    public ValueTask<PublishResult> PublishToNobody() => _node.PublishAsync(_toNobody);

    [Benchmark(Description = "count(where): 1 class of 10k connections (100 match)")]
    public (int, int) MatchOneClass() => _node.Count(_oneClass);

    [Benchmark(Description = "count(where): 1 school of 10k connections (1,000 match)")]
    public (int, int) MatchOneSchool() => _node.Count(_oneSchool);
}
