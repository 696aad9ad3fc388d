using Microsoft.Extensions.Logging;

namespace Herald.Server;

/// <summary>Log messages of Herald's own listener (event ids 2040–2049).</summary>
internal static partial class ServerLog
{
    [LoggerMessage(2040, LogLevel.Debug, "WebSocket from {Remote} accepted by Herald's listener, without Kestrel's HTTP layer")]
    public static partial void DirectUpgrade(ILogger logger, string remote);

    [LoggerMessage(2041, LogLevel.Error, "Accepting a connection failed ({Error}): {Message}. If it says too many open files, raise the process's limit (ulimit -n)")]
    public static partial void AcceptFailed(ILogger logger, string error, string message);
}
