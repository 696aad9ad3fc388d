namespace Herald.Redis;

/// <summary>A live node as it last registered itself in Redis.</summary>
/// <param name="Id">The node's id (its name and a random suffix per start).</param>
/// <param name="StartedAt">When the node started.</param>
/// <param name="Connections">How many connections it had at its last heartbeat.</param>
public sealed record RedisNodeInfo(string Id, DateTimeOffset StartedAt, int Connections);
