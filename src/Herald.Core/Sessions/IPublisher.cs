using Herald.Core.Routing;

namespace Herald.Core.Sessions;

/// <summary>Publishes for a client session (the node's one publish path, <see cref="Node.PublishAsync(PublishRequest, CancellationToken)"/>).</summary>
internal interface IPublisher
{
    /// <summary>Publishes <paramref name="request"/> and says whom it reached.</summary>
    ValueTask<PublishResult> PublishAsync(PublishRequest request, CancellationToken cancellation = default);
}
