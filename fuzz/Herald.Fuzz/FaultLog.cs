using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Herald.Fuzz;

/// <summary>
/// The logger every harnessed component writes to. Herald logs at Error level only for faults of its own (an exception
/// in a message handler, a failed receive loop): bad input from the network is answered and logged below Error. So
/// any Error entry while an input runs is a finding, even when the code under test caught the exception itself.
/// </summary>
internal sealed class FaultLog : ILoggerFactory, ILoggerProvider, ILogger
{
    private readonly ConcurrentQueue<string> _faults = new();

    /// <summary>A typed logger writing here.</summary>
    public ILogger<T> For<T>() => new Logger<T>(this);

    /// <summary>Throws a <see cref="FuzzFinding"/> with every fault logged since the last call, and forgets them.</summary>
    public void ThrowIfAny()
    {
        if (_faults.IsEmpty)
        {
            return;
        }
        var faults = new List<string>();
        while (_faults.TryDequeue(out var fault))
        {
            faults.Add(fault);
        }
        throw new FuzzFinding("the server logged an error:\n" + string.Join("\n", faults));
    }

    /// <summary>Forgets faults logged by a previous input (after a finding was reported).</summary>
    public void Clear() => _faults.Clear();

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel >= LogLevel.Error)
        {
            _faults.Enqueue($"[{eventId.Id}] {formatter(state, exception)}" + (exception is null ? "" : "\n" + exception));
        }
    }

    public bool IsEnabled(LogLevel logLevel) => true;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }
}
