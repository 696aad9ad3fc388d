using Microsoft.Extensions.Logging;

namespace Herald.Server.Pusher;

/// <summary>Source-generated log messages of the Pusher HTTP API, with stable event ids (206x).</summary>
internal static partial class PusherLog
{
    [LoggerMessage(2060, LogLevel.Debug, "Pusher API {Method} {Path} from {Remote} refused: {Status} {Message}{Suppressed}")]
    public static partial void Refused(ILogger logger, string method, string path, string remote, int status, string message, string suppressed);

    [LoggerMessage(2061, LogLevel.Error, "Pusher API {Method} {Path} failed{Suppressed}")]
    public static partial void Failed(ILogger logger, string method, string path, string suppressed, Exception exception);
}
