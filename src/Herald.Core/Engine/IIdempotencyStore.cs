namespace Herald.Core.Engine;

/// <summary>
/// Idempotency keys shared by the nodes of a cluster, so a retried publish is published once whichever node it reaches.
/// Guarantees: of the callers that claim one key within its window, exactly one gets <c>true</c>; a result stored
/// under the key is returned to every later reader until the window ends; releasing a claim lets the next caller claim
/// it. Throws <see cref="StoreUnavailableException"/> when it cannot be reached.
/// </summary>
public interface IIdempotencyStore
{
    /// <summary>Claims <paramref name="key"/> for <paramref name="window"/>; false when it was already claimed.</summary>
    ValueTask<bool> TryClaimAsync(string key, TimeSpan window, CancellationToken cancellation = default);

    /// <summary>Stores the result of the claimed key's publish, kept for <paramref name="window"/>.</summary>
    ValueTask CompleteAsync(string key, byte[] result, TimeSpan window, CancellationToken cancellation = default);

    /// <summary>The stored result; null while the claimer is still publishing (or after the key was released or expired).</summary>
    ValueTask<byte[]?> GetResultAsync(string key, CancellationToken cancellation = default);

    /// <summary>Gives up a claim whose publish failed, so a retry can publish.</summary>
    ValueTask ReleaseAsync(string key, CancellationToken cancellation = default);
}
