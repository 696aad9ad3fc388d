using Herald.Core;
using Herald.Core.Auth;
using Herald.Server.Api;
using Microsoft.Extensions.Logging;

namespace Herald.Server;

/// <summary>Everything a Herald server runs with. Defaults are the seed's: WebSocket 0.0.0.0:6552, UDP 127.0.0.1:6553.</summary>
public sealed record HeraldServerOptions
{
    /// <summary>Address for WebSocket and HTTP.</summary>
    public string Host { get; init; } = "0.0.0.0";

    /// <summary>Port for WebSocket and HTTP; 0 picks a free one.</summary>
    public int Port { get; init; } = 6552;

    /// <summary>Whether UDP ingress runs.</summary>
    public bool UdpEnabled { get; init; } = true;

    /// <summary>Address of UDP ingress; loopback by default so only this host can publish.</summary>
    public string UdpHost { get; init; } = "127.0.0.1";

    /// <summary>Port of UDP ingress; 0 picks a free one.</summary>
    public int UdpPort { get; init; } = 6553;

    /// <summary>Kernel receive buffer of the UDP socket: room for bursts while the receive loop catches up.</summary>
    public int UdpReceiveBufferBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>API keys; when none is set the HTTP API answers loopback callers only.</summary>
    public IReadOnlyList<ApiKey> ApiKeys { get; init; } = [];

    /// <summary>How connection and subscription tokens are verified.</summary>
    public TokenOptions Token { get; init; } = new();

    /// <summary>Browser origins allowed to open WebSockets (<c>https://app.example.com</c>, <c>https://*.example.com</c>); empty: any.</summary>
    public IReadOnlyList<string> AllowedOrigins { get; init; } = [];

    /// <summary>Sources allowed to send UDP datagrams: addresses or CIDR ranges. Default: loopback only.</summary>
    public IReadOnlyList<string> UdpAllow { get; init; } = ["127.0.0.0/8", "::1"];

    /// <summary>When set, every datagram must be signed: first line <c>sha256=&lt;hex HMAC-SHA256 of the body&gt;</c>.</summary>
    public string? UdpSecret { get; init; }

    /// <summary>New WebSocket connections per second one IP address may open (0: no limit).</summary>
    public int MaxConnectionsPerIpPerSecond { get; init; }

    /// <summary>
    /// WebSocket connections one IP address may hold open at once (0: no limit). 1000 by default: far above what one
    /// browser, office or school NAT opens, far below what exhausts the server's memory and file descriptors.
    /// </summary>
    public int MaxConnectionsPerIp { get; init; } = 1000;

    /// <summary>
    /// Addresses and CIDR ranges exempt from <see cref="MaxConnectionsPerIp"/>: a reverse proxy or NAT gateway carries
    /// many clients on one address. Loopback by default, where a local reverse proxy connects from. (The opt-in
    /// <see cref="MaxConnectionsPerIpPerSecond"/> applies to every address.)
    /// </summary>
    public IReadOnlyList<string> TrustedProxies { get; init; } = ["127.0.0.0/8", "::1"];

    /// <summary>File to append logs to, besides the console; null for none.</summary>
    public string? LogFile { get; init; }

    /// <summary>Lowest level logged.</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>Whether logs go to the console.</summary>
    public bool ConsoleLog { get; init; } = true;

    /// <summary>How long a graceful shutdown waits for clients to close.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Folder of the embedded database for history and inboxes; null keeps them in memory (<c>--memory</c>).</summary>
    public string? DataDirectory { get; init; }

    /// <summary>
    /// When set, the node joins a cluster on Redis (<c>engine: redis</c>): history, inboxes, presence and fan-out are
    /// shared by every node with the same Redis and key prefix, and <see cref="DataDirectory"/> is not used.
    /// </summary>
    public Herald.Redis.RedisEngineOptions? Redis { get; init; }

    /// <summary>The Pusher protocol's apps and the default app (settings <c>apps</c>, <c>default_app</c>); none by default.</summary>
    public Herald.Core.Apps.AppRegistry Apps { get; init; } = Herald.Core.Apps.AppRegistry.Empty;

    /// <summary>Settings of the node (limits, keep-alive, queues).</summary>
    public NodeOptions Node { get; init; } = new();
}
