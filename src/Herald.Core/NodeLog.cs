using Herald.Core.Connections;
using Microsoft.Extensions.Logging;

namespace Herald.Core;

/// <summary>Source-generated log messages of the core, with stable event ids (1xxx).</summary>
internal static partial class NodeLog
{
    [LoggerMessage(1001, LogLevel.Information, "Connection {ConnectionId} opened from {RemoteAddress} ({Kind})")]
    public static partial void ConnectionOpened(ILogger logger, string connectionId, string remoteAddress, ConnectionKind kind);

    [LoggerMessage(1002, LogLevel.Information, "Connection {ConnectionId} from {RemoteAddress} closed: code {CloseCode}{CloseReason} after {Seconds}s")]
    public static partial void ConnectionClosed(ILogger logger, string connectionId, string remoteAddress, int closeCode, string closeReason, double seconds);

    [LoggerMessage(1003, LogLevel.Warning, "Connection {ConnectionId} from {RemoteAddress} disconnected as a slow consumer: more than {Frames} frames or {Bytes} bytes waiting (settings send_queue_limit, send_queue_max_bytes)")]
    public static partial void SlowConsumer(ILogger logger, string connectionId, string remoteAddress, int frames, int bytes);

    [LoggerMessage(1004, LogLevel.Debug, "Connection {ConnectionId}: send failed ({ExceptionType}: {Message})")]
    public static partial void SendFailed(ILogger logger, string connectionId, string exceptionType, string message);

    [LoggerMessage(1005, LogLevel.Debug, "Connection {ConnectionId} sent a bad message: {Error}{Suppressed}")]
    public static partial void BadClientMessage(ILogger logger, string connectionId, string error, string suppressed);

    [LoggerMessage(1006, LogLevel.Information, "Connection {ConnectionId} from {RemoteAddress} closed as stale: nothing received for {Seconds}s (settings ping_interval, pong_timeout)")]
    public static partial void StaleConnection(ILogger logger, string connectionId, string remoteAddress, double seconds);

    [LoggerMessage(1007, LogLevel.Information, "Connection {ConnectionId} from {RemoteAddress} closed: no connect command within {Seconds}s (setting connect_timeout)")]
    public static partial void ConnectTimedOut(ILogger logger, string connectionId, string remoteAddress, double seconds);

    [LoggerMessage(1008, LogLevel.Information, "Shutdown: connections closed in {Milliseconds} ms, {Remaining} aborted")]
    public static partial void ShutdownComplete(ILogger logger, long milliseconds, int remaining);

    [LoggerMessage(1009, LogLevel.Error, "Unexpected error handling a message of connection {ConnectionId}{Suppressed}")]
    public static partial void MessageHandlerFailed(ILogger logger, string connectionId, string suppressed, Exception exception);

    [LoggerMessage(1010, LogLevel.Information, "Connection {ConnectionId} of user '{UserId}' closed: token expired")]
    public static partial void TokenExpired(ILogger logger, string connectionId, string userId);

    [LoggerMessage(1011, LogLevel.Information, "Connection {ConnectionId} from {RemoteAddress} refused: {Reason}")]
    public static partial void AuthRefused(ILogger logger, string connectionId, string remoteAddress, string reason);

    [LoggerMessage(1012, LogLevel.Error, "Storage failed: {Reason}. Publishes answer 503 (error 114) until it works again; live delivery goes on")]
    public static partial void StoreFailed(ILogger logger, string reason, Exception exception);

    [LoggerMessage(1013, LogLevel.Information, "Storage works again")]
    public static partial void StoreRecovered(ILogger logger);

    [LoggerMessage(1014, LogLevel.Warning, "Connection {ConnectionId}: channel \"{Channel}\" from the token was not subscribed: {Reason}")]
    public static partial void TokenChannelSkipped(ILogger logger, string connectionId, string channel, string reason);

    [LoggerMessage(1015, LogLevel.Warning, "Presence of channel {Channel} could not be updated: {Reason}")]
    public static partial void PresenceFailed(ILogger logger, string channel, string reason);

    [LoggerMessage(1016, LogLevel.Warning, "Messages of {Topic} were missed ({Reason}): {Count} connections told to reconnect and recover from history")]
    public static partial void BrokerMessagesMissed(ILogger logger, string topic, string reason, int count);

    [LoggerMessage(1017, LogLevel.Warning, "Broker: {Operation} {Topic} failed: {Reason}")]
    public static partial void BrokerFailed(ILogger logger, string operation, string topic, string reason);

    [LoggerMessage(1018, LogLevel.Error, "Broker message of {Topic} could not be handled")]
    public static partial void BrokerMessageFailed(ILogger logger, string topic, Exception exception);

    [LoggerMessage(1019, LogLevel.Warning, "The keep-alive sweep ran {Seconds}s late: this process or its machine stalled (a pause, an overloaded host); no connection is closed as stale for the next {GraceSeconds}s, so that pongs that arrived meanwhile are read first")]
    public static partial void KeepAliveSweepLate(ILogger logger, double seconds, double graceSeconds);

    [LoggerMessage(1020, LogLevel.Warning, "Control command \"{Method}\" from another node ignored: this version does not know it (a newer node sent it; upgrade this one)")]
    public static partial void UnknownControlCommand(ILogger logger, string method);
}
