using System.Text.Json.Serialization;

namespace Herald.Server.Api;

/// <summary>Source-generated JSON for the API's reply bodies (snake_case, no reflection).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(PublishReply))]
[JsonSerializable(typeof(HealthReply))]
[JsonSerializable(typeof(InfoReply))]
[JsonSerializable(typeof(NodeReply))]
internal sealed partial class ApiJsonContext : JsonSerializerContext
{
    /// <summary>Replies go to API clients, never into HTML: keep quotes and non-ASCII text readable.</summary>
    public static ApiJsonContext Relaxed { get; } = new(new System.Text.Json.JsonSerializerOptions
    {
        PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}

internal sealed record PublishReply(int Recipients);

internal sealed record HealthReply(string Status, int Connections, string Version, string Store, string Engine);

internal sealed record InfoReply(string Node, string Version, long UptimeSeconds, int Connections, int Users, int Channels,
    long Publishes, long Deliveries, long SlowConsumers, string Engine, IReadOnlyList<NodeReply> Nodes);

/// <summary>One node of the cluster as the info method lists it.</summary>
internal sealed record NodeReply(string Id, DateTimeOffset StartedAt, int Connections, bool Self);
