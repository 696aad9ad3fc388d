using Herald.Core.Engine;

namespace Herald.Core.Sessions;

// What a session answers, as typed results: adapters encode them into their frames.

/// <summary>What a connected client is told: who it is, the keep-alive it must keep, its token's subscriptions and its inbox.</summary>
/// <param name="ClientId">The connection's id.</param>
/// <param name="ServerVersion">The server's version.</param>
/// <param name="PingInterval">How often the server pings.</param>
/// <param name="PongTimeout">How long the server waits for the answer.</param>
/// <param name="UserId">The token's user, empty for an anonymous connection.</param>
/// <param name="ExpiresInSeconds">Seconds until the token expires, null when it does not.</param>
/// <param name="Subscriptions">The channels the token subscribed, with their stream state where they keep history.</param>
/// <param name="Inbox">The user's inbox, when the user has one.</param>
internal sealed record ConnectResult(
    string ClientId,
    string ServerVersion,
    TimeSpan PingInterval,
    TimeSpan PongTimeout,
    string UserId,
    long? ExpiresInSeconds,
    IReadOnlyList<SubscribeResult> Subscriptions,
    InboxPage? Inbox);

/// <summary>A channel the connection is now subscribed to, with its stream state when the channel keeps history (else null).</summary>
internal sealed record SubscribeResult(string Channel, StreamState? Stream);

/// <summary>
/// Where a channel's stream is for a new subscriber and, when it asked to recover, whether that worked and what it
/// missed (in order).
/// </summary>
/// <param name="Position">The stream's epoch and newest offset.</param>
/// <param name="Recovered">Null when no recovery was asked; else whether every missed publication is in <paramref name="Publications"/>.</param>
/// <param name="Publications">The missed publications, empty unless recovered.</param>
internal sealed record StreamState(StreamPosition Position, bool? Recovered, IReadOnlyList<StoredPublication> Publications);

/// <summary>What a refresh tells the client: seconds until the new token expires, null when it does not.</summary>
internal readonly record struct RefreshResult(long? ExpiresInSeconds);

/// <summary>The user's inbox is acknowledged up to <paramref name="Acked"/> (never moves back).</summary>
internal readonly record struct InboxAckResult(ulong Acked);
