namespace Herald.Server.Pusher;

/// <summary>A Pusher API request that is refused: the HTTP status and the text the caller reads.</summary>
internal sealed class PusherApiException(int status, string message) : Exception(message)
{
    /// <summary>The HTTP status: 400 malformed, 401 not authenticated, 403 app disabled, 404 unknown, 413 too large, 503 engine down.</summary>
    public int Status { get; } = status;
}
