using Herald.Core.Engine;

namespace Herald.Core.Hub;

/// <summary>
/// Keeps this node subscribed to the broker topics of exactly the channels and users it has connections for. After any
/// change of a channel's (or user's) local connections, <see cref="Reconcile"/> compares what is wanted now with what
/// is subscribed and, when they differ, queues a subscribe or unsubscribe behind the topic's previous one, so the
/// broker sees them in order and the last change always wins, whatever the races between connections.
/// </summary>
internal sealed class TopicSubscriptions(IBroker broker, Func<BrokerTopic, bool> wanted, Action<BrokerTopic, Exception> failed)
{
    private sealed class Entry
    {
        public bool Subscribed;
        public Task Operation = Task.CompletedTask;
    }

    private readonly Dictionary<BrokerTopic, Entry> _entries = [];
    private readonly Lock _sync = new();

    /// <summary>Topics subscribed (or being subscribed) now.</summary>
    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _entries.Values.Count(e => e.Subscribed);
            }
        }
    }

    /// <summary>The topics subscribed now, for a resynchronisation after the broker lost them.</summary>
    public List<BrokerTopic> Subscribed()
    {
        lock (_sync)
        {
            return [.. _entries.Where(e => e.Value.Subscribed).Select(e => e.Key)];
        }
    }

    /// <summary>Subscribes or unsubscribes <paramref name="topic"/> when what is wanted changed.</summary>
    public void Reconcile(BrokerTopic topic)
    {
        lock (_sync)
        {
            var want = wanted(topic);
            _entries.TryGetValue(topic, out var entry);
            if ((entry?.Subscribed ?? false) == want)
            {
                if (!want && entry is not null && entry.Operation.IsCompleted)
                {
                    _entries.Remove(topic); // a failed subscribe, kept for its waiters until now
                }
                return;
            }
            entry ??= _entries[topic] = new Entry();
            entry.Subscribed = want;
            var operation = RunAfterAsync(entry.Operation, topic, want);
            entry.Operation = operation;
            _ = operation.ContinueWith(_ => Forget(topic, entry, operation), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>Completes when the topic's latest subscribe is done; throws <see cref="StoreUnavailableException"/> when it failed.</summary>
    public Task ReadyAsync(BrokerTopic topic)
    {
        lock (_sync)
        {
            return _entries.TryGetValue(topic, out var entry) ? entry.Operation : Task.CompletedTask;
        }
    }

    private async Task RunAfterAsync(Task previous, BrokerTopic topic, bool subscribe)
    {
        await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        try
        {
            if (subscribe)
            {
                await broker.SubscribeAsync(topic).ConfigureAwait(false);
            }
            else
            {
                await broker.UnsubscribeAsync(topic).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            failed(topic, ex);
            if (subscribe)
            {
                lock (_sync)
                {
                    // Not subscribed after all: the next change of this topic tries again.
                    if (_entries.TryGetValue(topic, out var entry))
                    {
                        entry.Subscribed = false;
                    }
                }
                throw ex as StoreUnavailableException ?? new StoreUnavailableException($"subscribing to {topic} failed: {ex.Message}", ex);
            }
        }
    }

    /// <summary>Drops the entry of an unsubscribed topic once its last operation is done, so the table does not grow with every channel ever seen.</summary>
    private void Forget(BrokerTopic topic, Entry entry, Task operation)
    {
        lock (_sync)
        {
            // A failed subscribe stays (faulted) so that whoever waits for the topic learns of the failure.
            if (!entry.Subscribed && operation.IsCompletedSuccessfully && ReferenceEquals(entry.Operation, operation)
                && _entries.TryGetValue(topic, out var current) && ReferenceEquals(current, entry))
            {
                _entries.Remove(topic);
            }
        }
    }
}
