using System.Collections.Concurrent;

namespace Herald.Redis.Internal;

/// <summary>
/// Completes the appends of one stream in the order they were sent. Redis answers them in order, but their callers
/// resume on the thread pool, where a later append could complete first and be delivered before an earlier one. Each
/// append is sent under a lock striped by stream and, when an earlier one of the same stream is still pending, completes
/// only after it: the order costs nothing while a stream has one append in flight.
/// </summary>
internal sealed class AppendOrder
{
    private const int Stripes = 64;

    private readonly ConcurrentDictionary<string, Task> _pending = new(StringComparer.Ordinal);
    private readonly object[] _locks = [.. Enumerable.Range(0, Stripes).Select(_ => new object())];

    /// <summary>Calls <paramref name="send"/> (which must only queue the command) and returns its result in stream order.</summary>
    public Task<T> SendAsync<T>(string stream, Func<Task<T>> send)
    {
        Task<T> ordered;
        lock (_locks[(uint)StringComparer.Ordinal.GetHashCode(stream) % Stripes])
        {
            var sent = send();
            ordered = _pending.TryGetValue(stream, out var previous) ? AfterAsync(previous, sent) : sent;
            _pending[stream] = ordered;
        }
        if (ordered.IsCompleted)
        {
            _pending.TryRemove(new KeyValuePair<string, Task>(stream, ordered));
        }
        else
        {
            _ = ordered.ContinueWith(
                static (done, state) =>
                {
                    var (pending, stream) = ((ConcurrentDictionary<string, Task>, string))state!;
                    pending.TryRemove(new KeyValuePair<string, Task>(stream, done)); // unless a later append took its place
                },
                (_pending, stream), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        return ordered;
    }

    /// <summary>Pending streams, for tests (empty once every append completed).</summary>
    internal int PendingStreams => _pending.Count;

    private static async Task<T> AfterAsync<T>(Task previous, Task<T> sent)
    {
        await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return await sent.ConfigureAwait(false);
    }
}
