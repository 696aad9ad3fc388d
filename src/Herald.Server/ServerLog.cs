using Microsoft.Extensions.Logging;

namespace Herald.Server;

/// <summary>Source-generated log messages of the server, with stable event ids (2xxx).</summary>
internal static partial class ServerLog
{
    [LoggerMessage(2001, LogLevel.Information, "Herald {Version} listening: WebSocket and HTTP on {HttpEndpoint}, UDP ingress on {UdpEndpoint}")]
    public static partial void Listening(ILogger logger, string version, string httpEndpoint, string udpEndpoint);

    [LoggerMessage(2002, LogLevel.Warning, "UDP ingress dropped {Count} datagram(s) in the last {Seconds}s (total {Total}); last reason: {Reason}")]
    public static partial void UdpDropped(ILogger logger, long count, double seconds, long total, string reason);

    [LoggerMessage(2003, LogLevel.Error, "UDP ingress receive loop failed; restarting it")]
    public static partial void UdpLoopFailed(ILogger logger, Exception exception);

    [LoggerMessage(2004, LogLevel.Information, "Shutting down: telling {Connections} client(s) to reconnect")]
    public static partial void ShuttingDown(ILogger logger, int connections);

    [LoggerMessage(2005, LogLevel.Debug, "HTTP API {Method} from {Remote} refused: {Status} {Message}{Suppressed}")]
    public static partial void ApiRefused(ILogger logger, string method, string remote, int status, string message, string suppressed);

    [LoggerMessage(2006, LogLevel.Warning, "UDP receive buffer is {Actual} bytes, less than the {Requested} asked for (setting udp_receive_buffer); raise net.core.rmem_max to avoid drops under bursts")]
    public static partial void UdpBufferSmall(ILogger logger, int actual, int requested);

    [LoggerMessage(2007, LogLevel.Error, "Unexpected error in the WebSocket endpoint for connection {ConnectionId}{Suppressed}")]
    private static partial void WebSocketFailed(ILogger logger, string connectionId, string suppressed, Exception exception);

    private static readonly Herald.Core.LogThrottle WebSocketFaults = Herald.Core.LogThrottle.Default();

    /// <summary>A fault in a WebSocket's loop: its stack trace, once per cause every 10 s (a client may trigger it often).</summary>
    public static void WebSocketFailed(ILogger logger, string connectionId, Exception exception)
    {
        if (WebSocketFaults.ShouldLog(Herald.Core.LogThrottle.FaultCause(exception), out var suppressed))
        {
            WebSocketFailed(logger, connectionId, Herald.Core.LogThrottle.Note(suppressed), exception);
        }
    }

    [LoggerMessage(2011, LogLevel.Error, "UDP ingress failed on a datagram, which was dropped{Suppressed}")]
    public static partial void UdpDatagramFailed(ILogger logger, string suppressed, Exception exception);

    [LoggerMessage(2012, LogLevel.Error, "HTTP API {Method} failed; answered 500{Suppressed}")]
    public static partial void ApiFailed(ILogger logger, string method, string suppressed, Exception exception);

    [LoggerMessage(2008, LogLevel.Information, "WebSocket from {Remote} refused: {Reason}")]
    public static partial void WebSocketRefused(ILogger logger, string remote, string reason);

    [LoggerMessage(2009, LogLevel.Warning, "token_secret is shorter than 32 bytes: use a long random secret (e.g. openssl rand -hex 32)")]
    public static partial void WeakTokenSecret(ILogger logger);

    [LoggerMessage(2010, LogLevel.Information, "Herald {Version} listening: WebSocket and HTTP on {HttpEndpoint}, UDP ingress disabled (setting udp_enabled)")]
    public static partial void ListeningWithoutUdp(ILogger logger, string version, string httpEndpoint);

    [LoggerMessage(2020, LogLevel.Warning, "Redis engine not ready at start ({Reason}); serving local connections and joining the cluster once Redis answers")]
    public static partial void EngineNotReady(ILogger logger, string reason);
}
