using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Herald.Testing;

/// <summary>
/// Collects log events, so a test can check what was logged and fail on an error it did not expect: given to a server
/// as a logger provider (each entry names its category), or to a single component as its logger.
/// </summary>
public sealed class CapturedLogs : ILoggerProvider, ILogger
{
    public sealed record Entry(LogLevel Level, string Category, int EventId, string Message, Exception? Exception);

    private readonly ConcurrentQueue<Entry> _entries = new();
    private readonly ConcurrentBag<int> _expectedErrorIds = [];

    public IReadOnlyList<Entry> Entries => [.. _entries];

    /// <summary>Declares that errors with this event id are part of the test.</summary>
    public void ExpectError(int eventId) => _expectedErrorIds.Add(eventId);

    public IEnumerable<Entry> Errors => _entries.Where(e => e.Level >= LogLevel.Error);

    public IEnumerable<Entry> WithEventId(int eventId) => _entries.Where(e => e.EventId == eventId);

    public void AssertNoUnexpectedErrors()
    {
        var unexpected = _entries.Where(e => e.Level >= LogLevel.Error && !_expectedErrorIds.Contains(e.EventId)).ToList();
        Assert.True(unexpected.Count == 0,
            "The server logged unexpected errors:\n" + string.Join("\n", unexpected.Select(e => $"{e.Category}[{e.EventId}] {e.Message} {e.Exception}")));
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    /// <summary>A logger for one component that takes an <see cref="ILogger{T}"/> (its entries name <typeparamref name="T"/>).</summary>
    public ILogger<T> For<T>() => new Logger<T>(this);

    IDisposable? ILogger.BeginScope<TState>(TState state) => null;

    bool ILogger.IsEnabled(LogLevel logLevel) => true;

    void ILogger.Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Record(logLevel, "", eventId, formatter(state, exception), exception);

    public void Dispose()
    {
    }

    private void Record(LogLevel level, string category, EventId eventId, string message, Exception? exception) =>
        _entries.Enqueue(new Entry(level, category, eventId.Id, message, exception));

    private sealed class Logger<T>(CapturedLogs owner) : Logger(owner, typeof(T).FullName ?? typeof(T).Name), ILogger<T>;

    private class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Record(logLevel, category, eventId, formatter(state, exception), exception);
    }
}
