using Herald.Core.Connections;
using Herald.Core.Routing;

namespace Herald.Core;

public sealed partial class Node
{
    /// <summary>
    /// Publishes through the engine's broker, one path for a single node and a cluster (<see cref="Publisher"/>): each
    /// target channel with history (and each target user, when inboxes are on) gets the publication appended and handed
    /// out in one step, in offset order, and every node delivers what the broker hands it. Each frame is encoded once
    /// and shared by all recipients; a recipient whose send queue is full is disconnected instead of slowing the others.
    /// On a single node the result counts the connections reached; in a cluster they are reached on every node as the
    /// broker hands the publication out, so the count is unknown here (-1).
    /// </summary>
    public ValueTask<PublishResult> PublishAsync(PublishRequest request, CancellationToken cancellation = default) =>
        _publisher.PublishAsync(request, FlushDispatch.Inline, cancellation);

    /// <summary>
    /// As <see cref="PublishAsync(PublishRequest, CancellationToken)"/>, with the socket sends of this node's fan-out run
    /// as <paramref name="dispatch"/> says (UDP ingress hands them to the thread pool so its thread gets back to reading).
    /// </summary>
    public ValueTask<PublishResult> PublishAsync(PublishRequest request, FlushDispatch dispatch, CancellationToken cancellation = default) =>
        _publisher.PublishAsync(request, dispatch, cancellation);
}
