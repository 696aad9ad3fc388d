namespace Herald.Sqlite.Internal;

/// <summary>One queued write: applied inside the batch's transaction, completed only after the commit.</summary>
internal abstract class WriteOperation(CancellationToken cancellation)
{
    /// <summary>A write cancelled before the writer took it is dropped without effect.</summary>
    public CancellationToken Cancellation { get; } = cancellation;

    public abstract void Apply(WriteSession session);

    public abstract void Complete();

    public abstract void Fail(Exception error);

    public abstract void Cancel();
}

/// <summary>A write whose result (an offset, a position) is handed to the caller once it is committed.</summary>
internal sealed class WriteOperation<T>(Func<WriteSession, T> apply, CancellationToken cancellation) : WriteOperation(cancellation)
{
    // Callers continue on the thread pool, never on the writer thread.
    private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T _result = default!;

    public Task<T> Task => _done.Task;

    public override void Apply(WriteSession session) => _result = apply(session);

    public override void Complete() => _done.TrySetResult(_result);

    public override void Fail(Exception error) => _done.TrySetException(error);

    public override void Cancel() => _done.TrySetCanceled(Cancellation);
}
