namespace Herald.Core.Engine;

/// <summary>
/// A history store that keeps per-channel state in this process for channels without history: epochs reserved for
/// channels never published to, and (in memory) streams whose publications all expired. Anyone who may subscribe can
/// make such state for any name, so the node calls <see cref="ForgetIdle"/> now and then to keep it bounded.
/// Guarantee kept: the epoch of a stream that still has publications never changes; only state with nothing to
/// recover is forgotten, and never while the channel has subscribers on this node.
/// </summary>
public interface IForgetsIdleStreams
{
    /// <summary>Channels with such state now (for diagnostics and tests).</summary>
    int IdleStateCount { get; }

    /// <summary>Forgets the state unused for <paramref name="idle"/> of channels not <paramref name="inUse"/>; returns how many.</summary>
    int ForgetIdle(TimeSpan idle, Func<string, bool> inUse);
}
