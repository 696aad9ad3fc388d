namespace Herald.Core.Routing;

/// <summary>What a publish did on this node.</summary>
/// <param name="Recipients">Deliveries queued on this node (one per connection and channel).</param>
public readonly record struct PublishResult(int Recipients);
