namespace Herald.Core.Routing;

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

    /// <summary>Takes the gate and waits until everything started before has been delivered.</summary>
    public async ValueTask QuiesceAsync(CancellationToken cancellation = default)
    {
        await Gate.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            await Tail.WaitAsync(cancellation).ConfigureAwait(false);
        }
        catch
        {
            Gate.Release();
            throw;
        }
    }
}
