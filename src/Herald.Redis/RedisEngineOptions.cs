namespace Herald.Redis;

/// <summary>How a node reaches Redis and how it keeps its place among the other nodes.</summary>
public sealed class RedisEngineOptions
{
    /// <summary>Redis servers as <c>host:port</c>; one is enough for a standalone server, a few seed a Redis Cluster.</summary>
    public IList<string> Addresses { get; set; } = ["127.0.0.1:6379"];

    /// <summary>The ACL user, or null for the default user.</summary>
    public string? User { get; set; }

    /// <summary>The password (<c>requirepass</c> or the ACL user's), or null.</summary>
    public string? Password { get; set; }

    /// <summary>The database number (standalone Redis only; Redis Cluster has database 0 alone).</summary>
    public int Database { get; set; }

    /// <summary>Whether to connect with TLS.</summary>
    public bool Tls { get; set; }

    /// <summary>Starts every key, so several Herald clusters can share one Redis (see <see cref="RedisKeys"/>).</summary>
    public string KeyPrefix { get; set; } = "herald";

    /// <summary>
    /// The readable part of this node's id (default: the machine name). The id gets a random suffix per start, so a
    /// restarted node never adopts the presence entries its previous run left behind; those expire with that run.
    /// </summary>
    public string? NodeName { get; set; }

    /// <summary>How often the node renews its heartbeat and registry entry, and looks for dead nodes.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a node's heartbeat lasts; at least twice <see cref="HeartbeatInterval"/>. The presence entries of a node
    /// that stopped are removed within this time plus one interval.
    /// </summary>
    public TimeSpan NodeExpiry { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long a channel's position (offset and epoch) and a user's inbox offsets stay after their last append, when
    /// that is longer than the retention TTL: a client returning within this time still recovers, or learns exactly what
    /// it missed. Zero or <see cref="Timeout.InfiniteTimeSpan"/>: kept until removed.
    /// </summary>
    public TimeSpan PositionTtl { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Whether to fan out with sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7+): needed on Redis Cluster, where a classic
    /// PUBLISH reaches every shard and so costs the whole cluster; each channel's topic then lives on the shard of its
    /// history keys. Works on a standalone Redis 7 too; off by default for Redis 6.
    /// </summary>
    public bool ShardedPubSub { get; set; }

    /// <summary>How long to wait for the TCP (and TLS) connection to a server.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a command may take before it fails with <see cref="Core.Engine.StoreUnavailableException"/>.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Throws <see cref="ArgumentException"/> naming the option to fix.</summary>
    internal void Validate()
    {
        if (Addresses is null || Addresses.Count == 0 || Addresses.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("Redis addresses: give at least one host:port");
        }
        _ = new RedisKeys(KeyPrefix);
        if (HeartbeatInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException($"Redis heartbeat interval must be positive, not {HeartbeatInterval}");
        }
        if (NodeExpiry < 2 * HeartbeatInterval)
        {
            throw new ArgumentException($"Redis node expiry ({NodeExpiry}) must be at least twice the heartbeat interval ({HeartbeatInterval}), " +
                "or a node missing one heartbeat would be declared dead");
        }
        if (ConnectTimeout <= TimeSpan.Zero || CommandTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("Redis connect and command timeouts must be positive");
        }
    }
}
