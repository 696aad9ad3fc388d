using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Tests.Infrastructure;

/// <summary>
/// Collects the server's log events, so a test can check what was logged and fail when the server logged an error
/// it did not expect.
/// </summary>
public sealed class CapturedLogs : ILoggerProvider
{
    public sealed record Entry(LogLevel Level, string Category, int EventId, string Message, Exception? Exception);

    private readonly ConcurrentQueue<Entry> _entries = new();
    private readonly ConcurrentBag<int> _expectedErrorIds = [];

    public IReadOnlyList<Entry> Entries => [.. _entries];

    /// <summary>Declares that errors with this event id are part of the test.</summary>
    public void ExpectError(int eventId) => _expectedErrorIds.Add(eventId);

    public IEnumerable<Entry> WithEventId(int eventId) => _entries.Where(e => e.EventId == eventId);

    public void AssertNoUnexpectedErrors()
    {
        var unexpected = _entries.Where(e => e.Level >= LogLevel.Error && !_expectedErrorIds.Contains(e.EventId)).ToList();
        Assert.True(unexpected.Count == 0,
            "The server logged unexpected errors:\n" + string.Join("\n", unexpected.Select(e => $"{e.Category}[{e.EventId}] {e.Message} {e.Exception}")));
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._entries.Enqueue(new Entry(logLevel, category, eventId.Id, formatter(state, exception), exception));
    }
}
