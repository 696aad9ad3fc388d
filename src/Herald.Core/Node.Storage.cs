using Herald.Core.Engine;
using Herald.Protocol;

namespace Herald.Core;

/// <summary>A refusal of a storage request (unknown namespace, no history, storage down), with the code to return.</summary>
public sealed class NodeRequestException(int code, string message) : Exception(message)
{
    /// <summary>One of <see cref="ErrorCodes"/>.</summary>
    public int Code { get; } = code;
}

public sealed partial class Node
{
    /// <summary>
    /// A channel's history: publications after <paramref name="sinceOffset"/> oldest first, or the newest ones first.
    /// Throws <see cref="NodeRequestException"/> for an unknown namespace or a namespace without history.
    /// </summary>
    public async ValueTask<HistoryPage> HistoryAsync(string channel, int limit, ulong sinceOffset, bool newestFirst, CancellationToken cancellation = default)
    {
        var ns = ResolveForHistory(channel);
        return await Stored(() => _history.ReadAsync(channel, sinceOffset, Math.Clamp(limit, 0, ns.HistorySize), newestFirst, cancellation)).ConfigureAwait(false);
    }

    /// <summary>Forgets a channel's history; its next publication starts a new epoch, so clients recover with <c>recovered:false</c>.</summary>
    public async ValueTask RemoveHistoryAsync(string channel, CancellationToken cancellation = default)
    {
        ResolveForHistory(channel);
        var pipe = await _hub.ChannelGates.EnterAsync(channel, quiesce: true, cancellation).ConfigureAwait(false);
        try
        {
            await Stored(async () =>
            {
                await _history.RemoveAsync(channel, cancellation).ConfigureAwait(false);
                return true;
            }, write: true).ConfigureAwait(false);
        }
        finally
        {
            pipe.Gate.Release();
        }
    }

    /// <summary>A user's inbox after <paramref name="sinceOffset"/> (null: the unacknowledged entries).</summary>
    public ValueTask<InboxPage> InboxAsync(string user, ulong? sinceOffset, int limit, CancellationToken cancellation = default) =>
        Stored(() => _inbox.ReadAsync(user, sinceOffset, Math.Clamp(limit, 0, Math.Max(1, Options.InboxSize)), cancellation));

    /// <summary>Acknowledges a user's inbox up to <paramref name="offset"/>; returns the acknowledged offset.</summary>
    public ValueTask<ulong> InboxAckAsync(string user, ulong offset, CancellationToken cancellation = default) =>
        Stored(() => _inbox.AckAsync(user, offset, cancellation), write: true);

    /// <summary>Deletes a user's inbox entries up to <paramref name="upToOffset"/> (null: all).</summary>
    public async ValueTask InboxDeleteAsync(string user, ulong? upToOffset, CancellationToken cancellation = default) =>
        await Stored(async () =>
        {
            await _inbox.DeleteAsync(user, upToOffset, cancellation).ConfigureAwait(false);
            return true;
        }, write: true).ConfigureAwait(false);

    private Channels.NamespaceOptions ResolveForHistory(string channel)
    {
        if (!Channels.ChannelName.IsValid(channel, out var invalid))
        {
            throw new NodeRequestException(ErrorCodes.InvalidChannel, invalid);
        }
        var ns = _policy.Resolve(channel, out var error) ?? throw new NodeRequestException(ErrorCodes.UnknownNamespace, error);
        if (!ns.History.Enabled)
        {
            throw new NodeRequestException(ErrorCodes.BadRequest,
                $"channel \"{channel}\" keeps no history (settings history_size and history_ttl, or the namespace's)");
        }
        return ns;
    }

    private async ValueTask<T> Stored<T>(Func<ValueTask<T>> operation, bool write = false)
    {
        try
        {
            var result = await operation().ConfigureAwait(false);
            if (write)
            {
                StoreRecovered(); // reads work on a full disk too: only a write says storage works again
            }
            return result;
        }
        catch (StoreUnavailableException ex)
        {
            StoreFailed(ex);
            throw new NodeRequestException(ErrorCodes.StoreUnavailable, "storage failed, try again: " + ex.Message);
        }
    }
}
