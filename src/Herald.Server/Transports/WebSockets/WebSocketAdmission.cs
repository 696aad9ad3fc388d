using System.Net;
using Herald.Core.Connections;
using Herald.Core.Protocols.Pusher;
using Herald.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Transports.WebSockets;

/// <summary>
/// Everything decided about a WebSocket before its handshake is answered, in one place for both ways in (the direct
/// listener and an upgrade Kestrel served): whether it may open (origin allowlist, per-address rate of new connections,
/// per-address cap on open ones), which protocol it speaks, and a plain client's token from the URL.
/// </summary>
internal sealed class WebSocketAdmission(HeraldServerOptions options, TimeProvider time, ILogger<WebSocketAdmission> logger)
{
    private readonly OriginCheck _origins = new(options.AllowedOrigins);
    private readonly ConnectionRateLimiter _rate = new(options.MaxConnectionsPerIpPerSecond, time);
    private readonly ConnectionsPerAddress _open = new(options.MaxConnectionsPerIp, options.TrustedProxies);

    /// <summary>The reason a new WebSocket is refused before the handshake: HTTP status, Herald error code, message.</summary>
    internal readonly record struct Refusal(int Status, int Code, string Message);

    /// <summary>
    /// What an admitted WebSocket speaks: <c>herald.v1</c> (native), plain (with a plain client's URL token), or the
    /// Pusher protocol (at <c>/app/{key}</c>, with what its upgrade said).
    /// </summary>
    internal readonly record struct Admitted(ConnectionKind Kind, string? Token, PusherHandshake? Pusher = null)
    {
        /// <summary>Whether it speaks herald.v1.</summary>
        public bool Native => Kind == ConnectionKind.Native;

        /// <summary>The subprotocol the handshake answers with (none for plain and Pusher clients).</summary>
        public string? SubProtocol => Native ? ProtocolNames.SubprotocolV1 : null;
    }

    /// <summary>Where Pusher clients connect: <c>/app/{key}</c>.</summary>
    private const string PusherPathPrefix = "/app/";

    /// <summary>Addresses with connections counted against max_connections_per_ip now.</summary>
    internal int CountedAddresses => _open.AddressCount;

    /// <summary>
    /// The checks before a handshake. Null when the WebSocket may open: the caller then holds a place for
    /// <paramref name="address"/> and must <see cref="Release"/> it when the WebSocket ends (or fails to open).
    /// </summary>
    internal Refusal? Admit(Admitted admitted, string? origin, IPAddress? address, string remote)
    {
        // A Pusher app with allowed_origins of its own replaces the server's list; the refusal is Pusher's (4009, after the upgrade).
        var appOrigins = admitted.Pusher?.App is { AllowedOrigins.Count: > 0 };
        if (!appOrigins && !_origins.IsAllowed(origin))
        {
            ServerLog.WebSocketRefused(logger, remote, "origin not allowed: " + origin);
            return new Refusal(StatusCodes.Status403Forbidden, ErrorCodes.PermissionDenied,
                "this origin may not open WebSockets here (setting allowed_origins)");
        }
        if (!_rate.TryAcquire(address))
        {
            ServerLog.WebSocketRefused(logger, remote, "too many new connections per second from this address");
            return new Refusal(StatusCodes.Status429TooManyRequests, ErrorCodes.LimitExceeded,
                $"more than {options.MaxConnectionsPerIpPerSecond} new connections per second from this address (setting max_connections_per_ip_per_second); retry with backoff");
        }
        if (!_open.TryAcquire(address))
        {
            ServerLog.WebSocketRefused(logger, remote, "too many open connections from this address");
            return new Refusal(StatusCodes.Status429TooManyRequests, ErrorCodes.LimitExceeded,
                $"{_open.Limit} connections are open from this address already, the most allowed (setting max_connections_per_ip; " +
                "list a reverse proxy or NAT gateway in trusted_proxies); close one or retry later");
        }
        return null;
    }

    /// <summary>Gives back the place <see cref="Admit"/> took for a WebSocket from <paramref name="address"/>.</summary>
    internal void Release(IPAddress? address) => _open.Release(address);

    /// <summary>
    /// The protocol of a WebSocket about to be admitted: the Pusher protocol at <c>/app/{key}</c> (the app of the key,
    /// the protocol version asked for, whether <paramref name="origin"/> is allowed for the app), else as
    /// <see cref="Choose(string?, string?)"/> says.
    /// </summary>
    internal Admitted Choose(string path, string? requestedProtocols, string? query, string? origin)
    {
        if (path.StartsWith(PusherPathPrefix, StringComparison.Ordinal) && path.Length > PusherPathPrefix.Length && path.IndexOf('/', PusherPathPrefix.Length) < 0)
        {
            var key = path[PusherPathPrefix.Length..];
            var parameters = QueryHelpers.ParseNullableQuery(query);
            string? version = parameters is not null && parameters.TryGetValue("protocol", out var v) ? v.ToString() : null;
            var app = options.Apps.TryGetByKey(key, out var found) ? found : null;
            var originAllowed = app is not { AllowedOrigins.Count: > 0 } || new OriginCheck(app.AllowedOrigins).IsAllowed(origin);
            return new Admitted(ConnectionKind.Pusher, null, new PusherHandshake(app, key, version, originAllowed));
        }
        return Choose(requestedProtocols, query);
    }

    /// <summary>
    /// The protocol of an admitted WebSocket outside <c>/app/</c>, from its <c>Sec-WebSocket-Protocol</c> list
    /// (comma-separated, all header lines joined) and its URL query (without or with the leading <c>?</c>).
    /// </summary>
    internal static Admitted Choose(string? requestedProtocols, string? query)
    {
        var native = Requests(requestedProtocols, ProtocolNames.SubprotocolV1);
        string? token = null;
        // Plain clients pass their token in the URL (browsers cannot set headers on a WebSocket); native clients in connect.
        if (!native && QueryHelpers.ParseNullableQuery(query) is { } parsed && parsed.TryGetValue("token", out var values))
        {
            token = values;
        }
        return new Admitted(native ? ConnectionKind.Native : ConnectionKind.Plain, string.IsNullOrEmpty(token) ? null : token);
    }

    /// <summary>True when <paramref name="protocol"/> is among the comma-separated <paramref name="requested"/> subprotocols.</summary>
    private static bool Requests(string? requested, string protocol)
    {
        if (requested is null)
        {
            return false;
        }
        foreach (var range in requested.AsSpan().Split(','))
        {
            if (requested.AsSpan()[range].Trim().SequenceEqual(protocol))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The client's address as logs show it: <c>1.2.3.4:port</c>, <c>[::1]:port</c> (IPv4-mapped addresses as IPv4).</summary>
    internal static string FormatRemote(IPAddress? ip, int port)
    {
        if (ip is null)
        {
            return "unknown";
        }
        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
        }
        return ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"[{ip}]:{port}"
            : $"{ip}:{port}";
    }
}
