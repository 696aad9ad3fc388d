namespace Herald.Engine.Contracts.Infrastructure;

/// <summary>Every await in a test has a timeout, so a hang fails fast instead of eating CI.</summary>
public static class Timeouts
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(10);

    public static Task<T> DefaultTimeout<T>(this ValueTask<T> task, TimeSpan? timeout = null) => task.AsTask().WaitAsync(timeout ?? Default);

    public static Task DefaultTimeout(this ValueTask task, TimeSpan? timeout = null) => task.AsTask().WaitAsync(timeout ?? Default);

    public static Task<T> DefaultTimeout<T>(this Task<T> task, TimeSpan? timeout = null) => task.WaitAsync(timeout ?? Default);

    public static Task DefaultTimeout(this Task task, TimeSpan? timeout = null) => task.WaitAsync(timeout ?? Default);
}
