using Herald.Core.Engine;

namespace Herald.Core.Routing;

/// <summary>What a publish did on this node, or why it was refused.</summary>
/// <param name="Recipients">Deliveries queued on this node (one per connection and channel).</param>
/// <param name="ErrorCode">0 when routed; else one of <see cref="Protocol.ErrorCodes"/>.</param>
/// <param name="Error">Why the publish was refused; empty when routed.</param>
public sealed record PublishResult(int Recipients, int ErrorCode = 0, string Error = "")
{
    /// <summary>Whether the publish was routed.</summary>
    public bool Succeeded => ErrorCode == 0;

    /// <summary>Where the publication was stored, per channel with history.</summary>
    public IReadOnlyDictionary<string, StreamPosition>? Positions { get; init; }

    /// <summary>The inbox offset it got, per target user (when inboxes are on).</summary>
    public IReadOnlyDictionary<string, ulong>? InboxOffsets { get; init; }

    /// <summary>Whether this was a repeat of an earlier publish with the same idempotency key.</summary>
    public bool Duplicate { get; init; }
}
