using System.Globalization;
using Herald.Core;
using Herald.Core.Auth;
using Herald.Server;
using Microsoft.Extensions.Logging;

namespace Herald.Configuration;

/// <summary>
/// Every setting Herald has: its key (snake_case, as in the config file), its environment variable
/// (<c>HERALD_</c> + upper-case key), its default and how to read it. The single list that <c>serve</c>,
/// <c>config</c> and docs/configuration.md follow.
/// </summary>
internal static class Settings
{
    /// <summary>The engines <c>engine</c> names.</summary>
    public enum EngineKind
    {
        /// <summary>One node on its own: SQLite under data_dir, or memory.</summary>
        Embedded,

        /// <summary>A cluster of nodes on one Redis.</summary>
        Redis,
    }

    /// <summary>One setting. <c>Json</c>: in the config file the value may be a JSON array of objects, kept as JSON text.</summary>
    public sealed record Definition(string Key, string Default, string Description, bool Secret = false, bool List = false, bool Json = false)
    {
        public string EnvironmentVariable => "HERALD_" + Key.ToUpperInvariant();
    }

    public static readonly IReadOnlyList<Definition> All =
    [
        new("host", "0.0.0.0", "Address for WebSocket and HTTP."),
        new("port", "6552", "Port for WebSocket and HTTP (0 picks a free one)."),
        new("udp_enabled", "true", "Whether UDP ingress runs."),
        new("udp_host", "127.0.0.1", "Address of UDP ingress (loopback: only this host can publish)."),
        new("udp_port", "6553", "Port of UDP ingress (0 picks a free one)."),
        new("udp_receive_buffer", "8MiB", "Kernel receive buffer of the UDP socket."),
        new("api_keys", "", "API keys for the HTTP API: strings (full access) or {\"name\",\"key\",\"scope\":\"publish\"|\"full\"} objects in the config file, comma-separated in the environment; none: loopback callers only.", Secret: true, List: true, Json: true),
        new("log_file", "", "File to append logs to, besides the console (the seed's log_file)."),
        new("log_level", "information", "Lowest level logged: trace, debug, information, warning, error."),
        new("max_message_size", "64KiB", "Largest WebSocket message, UDP datagram or HTTP body."),
        new("ping_interval", "25s", "How often native clients are pinged (plain clients get WebSocket pings)."),
        new("pong_timeout", "10s", "How long past a ping a silent connection is kept before it is closed as stale."),
        new("connect_timeout", "10s", "How long a native client may take to send connect."),
        new("shutdown_timeout", "5s", "How long a graceful shutdown waits for clients to close."),
        new("send_queue_limit", "1024", "Frames that may wait for one connection before it is dropped as a slow consumer."),
        new("send_queue_max_bytes", "4MiB", "Bytes that may wait for one connection before it is dropped as a slow consumer."),
        new("client_publish", "false", "Whether native clients may publish to channels."),
        new("max_attributes", "32", "Most attributes per connection."),
        new("max_channels_per_connection", "128", "Most channels one connection may subscribe to."),
        new("max_where_values", "1000", "Most values one key of a where filter may list (more: error 108)."),
        new("token_secret", "", "Shared secret for HS256/384/512 connection and subscription tokens.", Secret: true),
        new("token_public_key", "", "RSA or EC public key (PEM text, or a path to a PEM file) for RS/PS/ES tokens."),
        new("token_jwks_url", "", "JWKS endpoint for RS/PS/ES tokens; refetched hourly and on an unknown kid."),
        new("token_issuer", "", "Required iss claim, when set."),
        new("token_audience", "", "Required aud claim, when set."),
        new("require_token", "false", "Refuse connections without a valid token (plain clients pass ?token=)."),
        new("attributes_from", "client", "Where attributes come from: client (merged under the token's attrs) or token (only the attrs claim)."),
        new("namespaces", "", "Channel namespaces: a JSON array of {\"name\",\"anonymous_subscribe\",\"private\",\"client_publish\",\"user_limited\"}.", List: true, Json: true),
        new("allowed_origins", "", "Browser origins allowed to open WebSockets (https://app.example.com, https://*.example.com); empty: any.", List: true),
        new("udp_allow", "127.0.0.0/8,::1", "Sources allowed to send UDP datagrams: addresses or CIDR ranges.", List: true),
        new("udp_secret", "", "When set, UDP datagrams must be signed: first line sha256=<hex HMAC-SHA256 of the body>.", Secret: true),
        new("max_connections_per_user", "0", "Most connections one user may hold (0: no limit)."),
        new("max_connections_per_ip_per_second", "0", "New WebSocket connections per second from one address (0: no limit)."),
        new("max_connections_per_ip", "1000", "WebSocket connections open at once from one address (0: no limit); trusted_proxies are exempt."),
        new("trusted_proxies", "127.0.0.0/8,::1", "Addresses or CIDR ranges exempt from max_connections_per_ip (reverse proxies, NAT gateways).", List: true),
        new("client_message_rate", "100", "Messages per second one client may send, bursts of twice that (0: no limit)."),
        new("engine", "embedded", "embedded (one node: SQLite under data_dir, or memory) or redis (a cluster of nodes sharing one Redis)."),
        new("redis", "127.0.0.1:6379", "Redis servers for engine redis, host:port, comma-separated (a few seed a Redis Cluster).", List: true),
        new("redis_user", "", "Redis ACL user (default: the default user)."),
        new("redis_password", "", "Redis password (requirepass or the ACL user's).", Secret: true),
        new("redis_db", "0", "Redis database number (standalone Redis only)."),
        new("redis_tls", "false", "Connect to Redis with TLS."),
        new("redis_prefix", "herald", "Starts every Redis key and topic: clusters with different prefixes share one Redis without seeing each other."),
        new("redis_sharded_pubsub", "false", "Fan out with sharded pub/sub (SPUBLISH, Redis 7+): use it on Redis Cluster."),
        new("redis_heartbeat", "5s", "How often a node renews its heartbeat in Redis and looks for dead nodes."),
        new("redis_node_expiry", "20s", "How long a silent node counts as alive: its presence entries go within this plus one heartbeat."),
        new("data_dir", "./data", "Folder of the embedded database (history, inboxes)."),
        new("memory", "false", "Keep history and inboxes in memory only: nothing survives a restart."),
        new("history_size", "100", "Publications each channel keeps for history and recovery (0: none); namespaces may override."),
        new("history_ttl", "24h", "How long publications stay in a channel's history; namespaces may override."),
        new("inbox_size", "1000", "Entries kept in each user's durable inbox (0: no inbox, user publishes are live only)."),
        new("inbox_ttl", "7d", "How long inbox entries are kept."),
        new("idempotency_window", "5m", "How long a publish's idempotency_key is remembered."),
        new("presence", "true", "Whether channels keep presence (who is subscribed); namespaces may override."),
        new("join_leave", "false", "Whether subscribers get join and leave pushes; namespaces may override."),
        new("apps", "", "Pusher protocol apps: a JSON array of {\"id\",\"key\",\"secret\",\"client_events\",...} objects (see docs/pusher.md); flag --app ID:KEY:SECRET.", Secret: true, Json: true),
        new("default_app", "", "The app (an id in apps) whose channels and users are Herald's own: its Pusher clients and API share them with native and plain clients, UDP and /api; empty: none."),
    ];

    public static Definition? Find(string key) => All.FirstOrDefault(d => d.Key == key);

    /// <summary>Turns the effective values into server options, validating each with a message that names the key.</summary>
    public static HeraldServerOptions ToOptions(EffectiveSettings values)
    {
        var node = new NodeOptions
        {
            MaxMessageSize = (int)values.Size("max_message_size", min: 256, max: 16 * 1024 * 1024),
            PingInterval = values.Duration("ping_interval", TimeSpan.FromSeconds(1), TimeSpan.FromHours(1)),
            PongTimeout = values.Duration("pong_timeout", TimeSpan.FromSeconds(1), TimeSpan.FromHours(1)),
            ConnectTimeout = values.Duration("connect_timeout", TimeSpan.FromSeconds(1), TimeSpan.FromHours(1)),
            SendQueueLimit = values.Int("send_queue_limit", 1, 1_000_000),
            SendQueueMaxBytes = (int)values.Size("send_queue_max_bytes", min: 1024, max: int.MaxValue),
            ClientPublish = values.Bool("client_publish"),
            MaxAttributes = values.Int("max_attributes", 0, 1024),
            MaxChannelsPerConnection = values.Int("max_channels_per_connection", 1, 100_000),
            MaxWhereValues = values.Int("max_where_values", 1, 1_000_000),
            RequireToken = values.Bool("require_token"),
            AttributesFrom = values.Enum<AttributeSource>("attributes_from"),
            Namespaces = values.Namespaces("namespaces"),
            MaxConnectionsPerUser = values.Int("max_connections_per_user", 0, 1_000_000),
            ClientMessageRate = values.Int("client_message_rate", 0, 1_000_000),
            HistorySize = values.Int("history_size", 0, 1_000_000),
            HistoryTtl = values.Duration("history_ttl", TimeSpan.Zero, TimeSpan.FromDays(3650)),
            InboxSize = values.Int("inbox_size", 0, 1_000_000),
            InboxTtl = values.Duration("inbox_ttl", TimeSpan.Zero, TimeSpan.FromDays(3650)),
            IdempotencyWindow = values.Duration("idempotency_window", TimeSpan.Zero, TimeSpan.FromDays(1)),
            Presence = values.Bool("presence"),
            JoinLeave = values.Bool("join_leave"),
        };
        var logFile = values.String("log_file");
        Herald.Redis.RedisEngineOptions? redis = null;
        if (values.Enum<EngineKind>("engine") == EngineKind.Redis)
        {
            redis = new Herald.Redis.RedisEngineOptions
            {
                Addresses = [.. values.RedisAddresses("redis")],
                User = NullIfEmpty(values.String("redis_user")),
                Password = NullIfEmpty(values.String("redis_password")),
                Database = values.Int("redis_db", 0, 10_000),
                Tls = values.Bool("redis_tls"),
                KeyPrefix = values.RedisPrefix("redis_prefix"),
                ShardedPubSub = values.Bool("redis_sharded_pubsub"),
                HeartbeatInterval = values.Duration("redis_heartbeat", TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10)),
                NodeExpiry = values.Duration("redis_node_expiry", TimeSpan.FromMilliseconds(200), TimeSpan.FromHours(1)),
            };
            if (redis.NodeExpiry < 2 * redis.HeartbeatInterval)
            {
                throw new ConfigException($"Setting 'redis_node_expiry' ({redis.NodeExpiry.TotalSeconds:0.###}s) must be at least twice 'redis_heartbeat' " +
                    $"({redis.HeartbeatInterval.TotalSeconds:0.###}s), or a node missing one heartbeat would be declared dead.");
            }
        }
        return new HeraldServerOptions
        {
            Host = values.Address("host"),
            Port = values.Int("port", 0, 65535),
            UdpEnabled = values.Bool("udp_enabled"),
            UdpHost = values.Address("udp_host"),
            UdpPort = values.Int("udp_port", 0, 65535),
            UdpReceiveBufferBytes = (int)values.Size("udp_receive_buffer", min: 4096, max: int.MaxValue),
            ApiKeys = values.ApiKeys("api_keys"),
            Token = new TokenOptions
            {
                Secret = NullIfEmpty(values.String("token_secret")),
                PublicKeyPem = values.PublicKey("token_public_key"),
                JwksUrl = values.Url("token_jwks_url"),
                Issuer = NullIfEmpty(values.String("token_issuer")),
                Audience = NullIfEmpty(values.String("token_audience")),
            },
            AllowedOrigins = values.List("allowed_origins"),
            UdpAllow = values.Cidrs("udp_allow"),
            UdpSecret = NullIfEmpty(values.String("udp_secret")),
            MaxConnectionsPerIpPerSecond = values.Int("max_connections_per_ip_per_second", 0, 1_000_000),
            MaxConnectionsPerIp = values.Int("max_connections_per_ip", 0, 10_000_000),
            TrustedProxies = values.Cidrs("trusted_proxies"),
            DataDirectory = values.Bool("memory") || redis is not null ? null : values.NonEmpty("data_dir"),
            Redis = redis,
            LogFile = string.IsNullOrWhiteSpace(logFile) ? null : logFile,
            LogLevel = values.Enum<LogLevel>("log_level"),
            ShutdownTimeout = values.Duration("shutdown_timeout", TimeSpan.Zero, TimeSpan.FromMinutes(10)),
            Apps = values.Apps("apps", "default_app"),
            Node = node,
        };
    }

    private static string? NullIfEmpty(string value) => string.IsNullOrWhiteSpace(value) ? null : value;

    /// <summary>Parses durations: <c>25s</c>, <c>500ms</c>, <c>2m</c>, <c>1h</c>, <c>7d</c>, or a bare number of seconds.</summary>
    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        text = text.Trim();
        var (number, unit) = SplitUnit(text);
        value = default;
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || n < 0)
        {
            return false;
        }
        double? seconds = unit switch
        {
            "" or "s" => n,
            "ms" => n / 1000,
            "m" or "min" => n * 60,
            "h" => n * 3600,
            "d" => n * 86400,
            _ => null,
        };
        // TimeSpan.FromSeconds throws past TimeSpan.MaxValue; a huge value is a bad value, not a crash.
        if (seconds is null || !double.IsFinite(seconds.Value) || seconds.Value >= TimeSpan.MaxValue.TotalSeconds)
        {
            return false;
        }
        value = TimeSpan.FromSeconds(seconds.Value);
        return true;
    }

    /// <summary>Parses sizes: <c>65536</c>, <c>64KiB</c>, <c>8MiB</c>, <c>1GiB</c> (KB/MB/GB are read as binary units too).</summary>
    public static bool TryParseSize(string text, out long value)
    {
        var (number, unit) = SplitUnit(text.Trim());
        value = 0;
        if (!long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            return false;
        }
        long? multiplier = unit.ToLowerInvariant() switch
        {
            "" or "b" => 1,
            "k" or "kb" or "kib" => 1024,
            "m" or "mb" or "mib" => 1024 * 1024,
            "g" or "gb" or "gib" => 1024L * 1024 * 1024,
            _ => null,
        };
        if (multiplier is null || n > long.MaxValue / multiplier.Value)
        {
            return false;
        }
        value = n * multiplier.Value;
        return true;
    }

    private static (string Number, string Unit) SplitUnit(string text)
    {
        var i = 0;
        while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
        {
            i++;
        }
        return (text[..i], text[i..].Trim());
    }
}
