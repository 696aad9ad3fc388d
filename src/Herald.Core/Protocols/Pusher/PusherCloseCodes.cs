using Herald.Protocol;

namespace Herald.Core.Protocols.Pusher;

/// <summary>
/// Pusher's close codes and what pusher-js does after each range: 4000-4099 it does not reconnect, 4100-4199 it
/// reconnects after a back-off, 4200-4299 it reconnects at once.
/// </summary>
internal static class PusherCloseCodes
{
    /// <summary>No app has the key the client named.</summary>
    public const int UnknownApp = 4001;

    /// <summary>The app is disabled.</summary>
    public const int AppDisabled = 4003;

    /// <summary>The app has its most connections (max_connections).</summary>
    public const int OverQuota = 4004;

    /// <summary>The client asked for a protocol version this server does not speak.</summary>
    public const int UnsupportedProtocol = 4007;

    /// <summary>The connection is not authorised (origin, sign-in), or was terminated: no reconnect.</summary>
    public const int Unauthorized = 4009;

    /// <summary>Over capacity: reconnect after a back-off.</summary>
    public const int OverCapacity = 4100;

    /// <summary>A client event over the rate limit (sent in <c>pusher:error</c>; the connection lives on).</summary>
    public const int RateLimited = 4301;

    /// <summary>Reconnect at once (shutdown, a server asking for a new connection).</summary>
    public const int Reconnect = 4200;

    /// <summary>Pong not received: reconnect at once.</summary>
    public const int PongNotReceived = 4201;

    /// <summary>A Herald close code (<see cref="DisconnectCodes"/>) as Pusher clients must read it.</summary>
    public static int FromHerald(int code) => code switch
    {
        DisconnectCodes.Shutdown => Reconnect,
        DisconnectCodes.Stale => PongNotReceived,
        DisconnectCodes.SlowConsumer => OverCapacity,
        DisconnectCodes.ForceReconnect => Reconnect,
        DisconnectCodes.InsufficientState => Reconnect,
        DisconnectCodes.TokenExpired => Unauthorized, // the sign-in grace ran out (user_authentication_required)
        DisconnectCodes.UserTerminated => Unauthorized,
        DisconnectCodes.ConnectionLimit => OverCapacity,
        DisconnectCodes.MessageTooLarge or DisconnectCodes.BadRequest or DisconnectCodes.ForceDisconnect or DisconnectCodes.Unauthorized => Unauthorized,
        _ => code, // Pusher's own codes (4000-4399), which the adapter closes with, go as they are
    };
}
