using Herald.Core.Apps;

namespace Herald.Core.Protocols.Pusher;

/// <summary>
/// What a Pusher client's upgrade (<c>/app/{key}?protocol=7&amp;client=...&amp;version=...</c>) said, as the transport
/// read it: the app its key names (null: none), the protocol version asked for, and whether its origin may connect to
/// that app.
/// </summary>
/// <param name="App">The app with the key, null when no app has it.</param>
/// <param name="Key">The key as the client gave it.</param>
/// <param name="ProtocolVersion">The <c>protocol</c> query parameter, null when missing.</param>
/// <param name="OriginAllowed">Whether the request's origin is allowed for the app (its allowed_origins, else the server's).</param>
public sealed record PusherHandshake(AppOptions? App, string Key, string? ProtocolVersion, bool OriginAllowed);
