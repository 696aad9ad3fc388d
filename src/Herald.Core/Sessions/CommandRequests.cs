using Herald.Core.Attributes;
using Herald.Core.Engine;

namespace Herald.Core.Sessions;

// What a client can ask a session, as typed arguments: adapters fill them from their frames.

/// <summary>
/// What a client sends to connect. A field the adapter could not read is passed as its error, not refused by the
/// adapter: the session refuses it at its own step, so a client learns about its mistakes in the documented order
/// (already connected, attributes, token, recovery positions).
/// </summary>
/// <param name="Token">The connection token (a JWT), null or empty for none.</param>
/// <param name="Attributes">The client's attributes (empty when it sent none).</param>
/// <param name="AttributesError">Why the attributes could not be read, or null.</param>
/// <param name="Since">Where to recover each of the token's channels from, null when not asked.</param>
/// <param name="SinceError">Why the recovery positions could not be read, or null.</param>
internal sealed record ConnectRequest(
    string? Token,
    AttributeSet Attributes,
    CommandError? AttributesError,
    IReadOnlyDictionary<string, StreamPosition>? Since,
    CommandError? SinceError);

/// <summary>
/// What a client sends to subscribe. As in <see cref="ConnectRequest"/>, a position the adapter could not read is
/// passed as its error and refused at the session's step for it (after the permission checks).
/// </summary>
/// <param name="Channel">The channel name as sent, null when missing.</param>
/// <param name="Token">A subscription token for a private channel, null or empty for none.</param>
/// <param name="Since">Where to recover from, null for no recovery.</param>
/// <param name="SinceError">Why the position could not be read, or null.</param>
internal sealed record SubscribeRequest(string? Channel, string? Token, StreamPosition? Since, CommandError? SinceError);

/// <summary>A publication a client sends to a channel.</summary>
/// <param name="Channel">The channel name as sent, null when missing.</param>
/// <param name="Data">The publication's JSON value, null when missing.</param>
/// <param name="DataIsString">Whether the value is a JSON string.</param>
internal sealed record ClientPublishRequest(string? Channel, ReadOnlyMemory<byte>? Data, bool DataIsString);

/// <summary>A page of a channel's presence a client asks for.</summary>
/// <param name="Channel">The channel name as sent, null when missing.</param>
/// <param name="Cursor">Where the previous page ended, null for the first page.</param>
/// <param name="Limit">How many members at most (clamped by the node).</param>
internal sealed record PresenceQuery(string? Channel, string? Cursor, int Limit);
