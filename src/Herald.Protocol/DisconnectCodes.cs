namespace Herald.Protocol;

/// <summary>
/// WebSocket close codes Herald uses (RFC 6455 private range). Codes 4000-4499 mean "reconnect (with backoff)",
/// 4500-4999 mean "do not reconnect automatically": a client can decide from the code alone.
/// </summary>
public static class DisconnectCodes
{
    /// <summary>The server is shutting down or restarting.</summary>
    public const int Shutdown = 4000;
    /// <summary>No message (not even a pong) arrived within ping interval + pong timeout.</summary>
    public const int Stale = 4001;
    /// <summary>The client read too slowly and its send queue overflowed.</summary>
    public const int SlowConsumer = 4002;
    /// <summary>A native client did not send <c>connect</c> in time.</summary>
    public const int ConnectTimeout = 4003;
    /// <summary>The server asked the client to reconnect.</summary>
    public const int ForceReconnect = 4004;
    /// <summary>The connection's token expired: get a new token, then reconnect (or refresh before expiry).</summary>
    public const int TokenExpired = 4005;

    /// <summary>
    /// The server may have missed publications of a stream this connection receives (its link to the cluster's broker
    /// was lost): reconnect and recover from history with the last offsets seen.
    /// </summary>
    public const int InsufficientState = 4006;
    /// <summary>The client broke the protocol.</summary>
    public const int BadRequest = 4500;
    /// <summary>A message exceeded <c>max_message_size</c>.</summary>
    public const int MessageTooLarge = 4501;
    /// <summary>The server closed the connection for good.</summary>
    public const int ForceDisconnect = 4502;
    /// <summary>The token was missing or invalid; reconnecting with the same token will fail again.</summary>
    public const int Unauthorized = 4503;
    /// <summary>The user already has the most connections allowed (setting max_connections_per_user).</summary>
    public const int ConnectionLimit = 4504;
    /// <summary>
    /// The backend terminated every connection of the user (the Pusher API's <c>terminate_connections</c>): Pusher's code
    /// 4009, after which Pusher clients do not reconnect on their own (native clients read it as "reconnect").
    /// </summary>
    public const int UserTerminated = 4009;

    /// <summary>Whether a client should reconnect after this code.</summary>
    public static bool ShouldReconnect(int code) => code is < 4500 or > 4999;
}
