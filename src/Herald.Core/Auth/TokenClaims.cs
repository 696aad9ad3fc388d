using Herald.Core.Attributes;

namespace Herald.Core.Auth;

/// <summary>What a verified token says about its bearer.</summary>
/// <param name="UserId">The <c>sub</c> claim; empty for an anonymous connection.</param>
/// <param name="ExpiresAt">The <c>exp</c> claim; null when the token does not expire.</param>
/// <param name="Attributes">The <c>attrs</c> claim (trusted attributes); null when absent.</param>
/// <param name="Channels">The <c>channels</c> claim: channels the server subscribes the connection to.</param>
/// <param name="Info">The <c>info</c> claim as raw JSON (shown in presence); null when absent.</param>
/// <param name="Channel">The <c>channel</c> claim of a subscription token; null otherwise.</param>
public sealed record TokenClaims(string UserId, DateTimeOffset? ExpiresAt, AttributeSet? Attributes, string[] Channels, byte[]? Info, string? Channel);
