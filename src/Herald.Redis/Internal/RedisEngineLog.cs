using Microsoft.Extensions.Logging;

namespace Herald.Redis.Internal;

/// <summary>Source-generated log messages of the Redis engine, with stable event ids (4xxx).</summary>
internal static partial class RedisEngineLog
{
    [LoggerMessage(4001, LogLevel.Information, "Connected to Redis {Servers} as node {Node} (key prefix \"{Prefix}\")")]
    public static partial void Connected(ILogger logger, string servers, string node, string prefix);

    [LoggerMessage(4002, LogLevel.Warning, "Cannot reach Redis {Servers} yet ({Reason}); history, inboxes and presence fail until it answers, " +
        "live delivery on this node goes on. Check that Redis runs there and the address, password and TLS settings")]
    public static partial void NotConnected(ILogger logger, string servers, string reason);

    [LoggerMessage(4003, LogLevel.Error, "Lost the connection to Redis {Endpoint} ({FailureType}): {Reason}. Reconnecting in the background")]
    public static partial void ConnectionLost(ILogger logger, string endpoint, string failureType, string reason);

    [LoggerMessage(4004, LogLevel.Information, "Connection to Redis {Endpoint} restored")]
    public static partial void ConnectionRestored(ILogger logger, string endpoint);

    [LoggerMessage(4005, LogLevel.Warning, "The Redis {Heartbeat} of node {Node} failed (retried every {Interval}): {Reason}")]
    public static partial void HeartbeatFailed(ILogger logger, string heartbeat, string node, TimeSpan interval, string reason);

    [LoggerMessage(4006, LogLevel.Information, "The Redis {Heartbeat} of node {Node} works again")]
    public static partial void HeartbeatRecovered(ILogger logger, string heartbeat, string node);

    [LoggerMessage(4007, LogLevel.Warning, "The heartbeat of node {Node} had expired in Redis (Redis restarted or lost data, or this node " +
        "could not reach it for longer than the node expiry): other nodes may have removed this node's presence entries, so it writes them again")]
    public static partial void HeartbeatHadExpired(ILogger logger, string node);

    [LoggerMessage(4008, LogLevel.Information, "Removed {Members} presence entries of node {DeadNode}, whose heartbeat expired, from {Channels} channels")]
    public static partial void SweptNode(ILogger logger, int members, string deadNode, int channels);

    [LoggerMessage(4009, LogLevel.Warning, "Removing the presence entries of dead node {DeadNode} failed (retried with the next heartbeat): {Reason}")]
    public static partial void SweepFailed(ILogger logger, string deadNode, string reason);

    [LoggerMessage(4010, LogLevel.Debug, "Removed {Members} presence entries of dead nodes {DeadNodes} from channel {Channel} while reading it")]
    public static partial void PurgedOnRead(ILogger logger, int members, string deadNodes, string channel);

    [LoggerMessage(4011, LogLevel.Information, "Node {Node} left Redis")]
    public static partial void Left(ILogger logger, string node);

    [LoggerMessage(4012, LogLevel.Warning, "Ignored a message on Redis topic {Topic} that is not Herald's")]
    public static partial void ForeignMessage(ILogger logger, string topic);

    [LoggerMessage(4013, LogLevel.Warning, "Redis pub/sub connection restored after a loss: messages published meanwhile may be missed, so this node's stream receivers recover from history")]
    public static partial void SubscriptionsRestored(ILogger logger);

    [LoggerMessage(4014, LogLevel.Warning, "Node {Node} wrote its presence again after its heartbeat had lapsed: {Missing} of {Entries} entries had been removed as a dead node's")]
    public static partial void PresenceRewritten(ILogger logger, string node, int missing, int entries);
}
