using Microsoft.Extensions.Logging;

namespace Herald.Server;

/// <summary>Log messages of the lean WebSocket path (event ids 2040–2049).</summary>
internal static partial class ServerLog
{
    [LoggerMessage(2040, LogLevel.Debug, "WebSocket from {Remote} upgraded on the raw connection, without Kestrel's HTTP layer (direct socket writes: {DirectSocket})")]
    public static partial void LeanUpgrade(ILogger logger, string remote, bool directSocket);
}
