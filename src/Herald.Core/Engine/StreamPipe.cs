namespace Herald.Core.Engine;

/// <summary>
/// Orders the publications of one stream (a channel's history or a user's inbox) on this node. Appends are started
/// one at a time under <see cref="Gate"/>, so the store assigns offsets in that order, but many may be in flight at
/// once (the SQLite writer commits them together); deliveries then run strictly in the same order, each after the
/// one before it (<see cref="Tail"/>). Recovery takes the gate and waits for the tail: it then sees a quiet stream,
/// so what it reads and what is delivered live afterwards never overlap or leave a gap.
/// </summary>
internal sealed class StreamPipe
{
    /// <summary>Held while an append is started, and by readers that need a quiet stream.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>Completes when every publication started so far has been delivered. Change only under <see cref="Gate"/>.</summary>
    public Task Tail { get; private set; } = Task.CompletedTask;

    /// <summary>Takes the next place in line: returns the delivery to wait for, and the one to complete when done.</summary>
    public (Task Previous, TaskCompletionSource Done) Enqueue()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var previous = Tail;
        Tail = done.Task;
        return (previous, done);
    }

    /// <summary>Set (under the gate) when the pipe was dropped from its table: whoever gets the gate then must look again.</summary>
    public bool Retired { get; set; }

    /// <summary>When the pipe was last entered (a <see cref="TimeProvider"/> timestamp); changed under the gate.</summary>
    public long LastUsed { get; set; }
}

/// <summary>
/// The pipes of one kind of stream (channels or users), created on first use and dropped after a while unused, so a
/// server that sees millions of channels over time does not keep a pipe for each.
/// </summary>
internal sealed class StreamPipes(TimeProvider time)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, StreamPipe> _pipes = new(StringComparer.Ordinal);

    public int Count => _pipes.Count;

    /// <summary>
    /// Enters the pipe of <paramref name="key"/>: returns it with its gate held (release it with <c>Gate.Release()</c>).
    /// With <paramref name="quiesce"/>, also waits until everything started in it has been delivered.
    /// </summary>
    public async ValueTask<StreamPipe> EnterAsync(string key, bool quiesce, CancellationToken cancellation = default)
    {
        while (true)
        {
            var pipe = _pipes.GetOrAdd(key, static (_, now) => new StreamPipe { LastUsed = now }, time.GetTimestamp());
            await pipe.Gate.WaitAsync(cancellation).ConfigureAwait(false);
            if (pipe.Retired)
            {
                pipe.Gate.Release(); // dropped while this caller waited: take the new one
                continue;
            }
            pipe.LastUsed = time.GetTimestamp();
            if (quiesce)
            {
                try
                {
                    await pipe.Tail.WaitAsync(cancellation).ConfigureAwait(false);
                }
                catch
                {
                    pipe.Gate.Release();
                    throw;
                }
            }
            return pipe;
        }
    }

    /// <summary>Drops pipes unused for <paramref name="idle"/> that are quiet right now (never one in use).</summary>
    public void Sweep(TimeSpan idle)
    {
        foreach (var (key, pipe) in _pipes)
        {
            if (time.GetElapsedTime(pipe.LastUsed) < idle || !pipe.Gate.Wait(0))
            {
                continue;
            }
            try
            {
                if (pipe.Tail.IsCompleted && time.GetElapsedTime(pipe.LastUsed) >= idle)
                {
                    pipe.Retired = true;
                    _pipes.TryRemove(new KeyValuePair<string, StreamPipe>(key, pipe));
                }
            }
            finally
            {
                pipe.Gate.Release();
            }
        }
    }
}
