using System.Text.Json;

namespace Herald.Client;

/// <summary>A publication received on a channel (or, with no channel, by attributes or as the user's).</summary>
/// <param name="Channel">The channel; null for attribute-targeted publishes.</param>
/// <param name="Offset">Its offset in the channel's history; 0 when the channel keeps none.</param>
/// <param name="Data">The data.</param>
/// <param name="Recovered">True when it was missed while disconnected and replayed on resubscribe.</param>
public sealed record Publication(string? Channel, ulong Offset, JsonElement Data, bool Recovered = false)
{
    /// <summary>The event name the publish gave (its <c>"event"</c>); null when it gave none.</summary>
    public string? Event { get; init; }
}

/// <summary>An entry of the user's durable inbox; acknowledge it with <see cref="HeraldClient.AckInboxAsync"/>.</summary>
/// <param name="Offset">Its inbox offset.</param>
/// <param name="Data">The data.</param>
public sealed record InboxEntry(ulong Offset, JsonElement Data)
{
    /// <summary>The event name the publish gave (its <c>"event"</c>); null when it gave none.</summary>
    public string? Event { get; init; }
}

/// <summary>An error reply from the server, with its stable code (see docs/protocol.md).</summary>
public sealed class HeraldException(int code, string message) : Exception(message)
{
    /// <summary>One of Herald's error codes (Herald.Protocol.ErrorCodes).</summary>
    public int Code { get; } = code;
}

/// <summary>A channel the client could not subscribe again after a reconnect, and the server's refusal.</summary>
/// <param name="Channel">The channel.</param>
/// <param name="Error">The error reply.</param>
public sealed record ResubscribeFailure(string Channel, HeraldException Error);
