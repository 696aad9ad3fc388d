namespace Herald.Core.Connections;

public sealed partial class Connection
{
    private Dictionary<string, (string Epoch, ulong Offset)>? _replayed;
    private List<Task>? _pendingPresence;

    /// <summary>Remembers a presence update still on its way to a shared store, so the reply can wait for it.</summary>
    internal void AddPendingPresence(Task update)
    {
        lock (_sync)
        {
            (_pendingPresence ??= []).Add(update);
        }
    }

    /// <summary>
    /// Completes when every presence update started for this connection reached the store (failures are logged where
    /// they happen), so once a subscribe or connect is answered, presence and online queries on any node show it.
    /// </summary>
    internal Task PresenceStoredAsync()
    {
        List<Task>? pending;
        lock (_sync)
        {
            pending = _pendingPresence;
            _pendingPresence = null;
        }
        return pending is null ? Task.CompletedTask : Task.WhenAll(pending);
    }

    /// <summary>
    /// Records that the connection was sent a stream (a channel's history, or its inbox under the key <c>""</c>) up to
    /// <paramref name="offset"/> of <paramref name="epoch"/>, so live publications of that stream at or below it are
    /// not sent again. Used when live publications come from the broker, which may deliver a publication the
    /// recovery read already returned.
    /// </summary>
    internal void MarkReplayed(string stream, string epoch, ulong offset)
    {
        lock (_sync)
        {
            (_replayed ??= new(StringComparer.Ordinal))[stream] = (epoch, offset);
        }
    }

    /// <summary>Drops the mark of <paramref name="stream"/> (unsubscribed: no live publication of it comes any more).</summary>
    internal void ForgetReplayed(string stream)
    {
        lock (_sync)
        {
            if (_replayed is not null && _replayed.Remove(stream) && _replayed.Count == 0)
            {
                _replayed = null;
            }
        }
    }

    /// <summary>Streams marked now (for tests).</summary>
    internal int ReplayedCount
    {
        get
        {
            lock (_sync)
            {
                return _replayed?.Count ?? 0;
            }
        }
    }

    /// <summary>
    /// Whether the live publication at <paramref name="offset"/> of <paramref name="epoch"/> of a stream is new to this
    /// connection; a new one moves the mark. The broker's order alone is not enough: when a node's last subscriber of a
    /// topic leaves, the node unsubscribes, and messages still queued from that earlier subscription can arrive after
    /// newer ones of the next (all of them at or below what the next subscription's recovery read, so dropping them
    /// loses nothing).
    /// </summary>
    internal bool IsNewOnStream(string stream, string epoch, ulong offset)
    {
        if (_replayed is null || offset == 0)
        {
            return true;
        }
        lock (_sync)
        {
            if (_replayed is null || !_replayed.TryGetValue(stream, out var mark))
            {
                return true;
            }
            if (string.Equals(mark.Epoch, epoch, StringComparison.Ordinal) && offset <= mark.Offset)
            {
                return false;
            }
            _replayed[stream] = (epoch, offset);
            return true;
        }
    }
}
