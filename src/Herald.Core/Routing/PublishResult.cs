namespace Herald.Core.Routing;

/// <summary>What a publish did on this node, or why it was refused.</summary>
/// <param name="Recipients">Deliveries queued on this node (one per connection and channel).</param>
/// <param name="ErrorCode">0 when routed; else one of <see cref="Protocol.ErrorCodes"/>.</param>
/// <param name="Error">Why the publish was refused; empty when routed.</param>
public readonly record struct PublishResult(int Recipients, int ErrorCode = 0, string Error = "")
{
    /// <summary>Whether the publish was routed.</summary>
    public bool Succeeded => ErrorCode == 0;
}
