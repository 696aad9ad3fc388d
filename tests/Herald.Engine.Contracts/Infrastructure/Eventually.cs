namespace Herald.Engine.Contracts.Infrastructure;

/// <summary>Waits for something that happens in the background, failing the test after a timeout instead of hanging.</summary>
public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until it holds; fails with <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static async Task<TimeSpan> UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition().DefaultTimeout())
        {
            Assert.True(started.Elapsed < (timeout ?? Timeouts.Default), $"timed out waiting until {what}");
            await Task.Delay(20);
        }
        return started.Elapsed;
    }
}
