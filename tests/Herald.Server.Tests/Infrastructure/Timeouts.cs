namespace Herald.Server.Tests.Infrastructure;

/// <summary>Every await in a test has a timeout, so a hang fails fast instead of eating CI.</summary>
public static class Timeouts
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(10);

    public static async Task<T> DefaultTimeout<T>(this Task<T> task, TimeSpan? timeout = null) =>
        await task.WaitAsync(timeout ?? Default).ConfigureAwait(false);

    public static async Task DefaultTimeout(this Task task, TimeSpan? timeout = null) =>
        await task.WaitAsync(timeout ?? Default).ConfigureAwait(false);

    /// <summary>Polls <paramref name="condition"/> until it holds or the timeout passes.</summary>
    public static async Task Until(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Default);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Timed out waiting until " + what);
            }
            await Task.Delay(10).ConfigureAwait(false);
        }
    }
}
