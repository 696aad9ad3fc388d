using System.Text;
using Herald.Core.Connections;
using Herald.Core.Routing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Core.Tests;

internal static class NodeFixture
{
    public static Node Create(NodeOptions? options = null) => new(options ?? new NodeOptions(), NullLogger<Node>.Instance);

    public static (Connection Connection, RecordingTransport Transport) Plain(this Node node, string? attributes = null)
    {
        var transport = new RecordingTransport();
        var connection = node.Open(transport, ConnectionKind.Plain, "127.0.0.1:1");
        if (attributes is not null)
        {
            node.OnTextMessageAsync(connection, Encoding.UTF8.GetBytes(attributes)).AsTask().Wait();
        }
        return (connection, transport);
    }

    public static (Connection Connection, RecordingTransport Transport) Native(this Node node, string? attributes = null)
    {
        var transport = new RecordingTransport();
        var connection = node.Open(transport, ConnectionKind.Native, "127.0.0.1:2");
        node.Send(connection, $"{{\"id\":1,\"method\":\"connect\",\"params\":{{\"attrs\":{attributes ?? "{}"}}}}}");
        return (connection, transport);
    }

    public static void Send(this Node node, Connection connection, string text) =>
        node.OnTextMessageAsync(connection, Encoding.UTF8.GetBytes(text)).AsTask().Wait();

    public static PublishResult Publish(this Node node, string json)
    {
        Assert.True(PublishRequestParser.TryParse(Encoding.UTF8.GetBytes(json), out var request, out _, out var error), error);
        return node.Publish(request);
    }

    /// <summary>Publishes and waits (the memory stores complete at once).</summary>
    public static PublishResult Publish(this Node node, PublishRequest request) => node.PublishAsync(request).AsTask().GetAwaiter().GetResult();
}
