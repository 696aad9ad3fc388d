using System.Diagnostics;

namespace Herald.Testing;

/// <summary>
/// Every wait in a test is bounded, so a hang fails fast instead of eating CI: awaiting a task, or polling until
/// something that happens in the background holds.
/// </summary>
public static class Timeouts
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(10);

    public static Task<T> DefaultTimeout<T>(this Task<T> task, TimeSpan? timeout = null) => task.WaitAsync(timeout ?? Default);

    public static Task DefaultTimeout(this Task task, TimeSpan? timeout = null) => task.WaitAsync(timeout ?? Default);

    public static Task<T> DefaultTimeout<T>(this ValueTask<T> task, TimeSpan? timeout = null) => task.AsTask().WaitAsync(timeout ?? Default);

    public static Task DefaultTimeout(this ValueTask task, TimeSpan? timeout = null) => task.AsTask().WaitAsync(timeout ?? Default);

    /// <summary>Polls <paramref name="condition"/> until it holds; throws a <see cref="TimeoutException"/> naming <paramref name="what"/> after the timeout.</summary>
    public static Task Until(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        UntilAsync(() => Task.FromResult(condition()), what, timeout);

    /// <summary>
    /// Polls an asynchronous <paramref name="condition"/> (each check bounded too) until it holds and returns how long that
    /// took; throws a <see cref="TimeoutException"/> naming <paramref name="what"/> after the timeout.
    /// </summary>
    public static async Task<TimeSpan> UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var limit = timeout ?? Default;
        var started = Stopwatch.StartNew();
        while (!await condition().DefaultTimeout().ConfigureAwait(false))
        {
            if (started.Elapsed > limit)
            {
                throw new TimeoutException("Timed out waiting until " + what);
            }
            await Task.Delay(10).ConfigureAwait(false);
        }
        return started.Elapsed;
    }
}
