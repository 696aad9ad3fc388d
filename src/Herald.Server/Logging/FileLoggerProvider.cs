using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Logging;

/// <summary>
/// Appends log lines to a file (setting <c>log_file</c>, like the seed's <c>log_file</c>). Lines are queued and written
/// by one background thread so logging never blocks a connection or the UDP loop on disk I/O.
/// </summary>
public sealed class FileLoggerProvider : ILoggerProvider
{
    private readonly BlockingCollection<string> _lines = new(new ConcurrentQueue<string>(), boundedCapacity: 100_000);
    private readonly StreamWriter _writer;
    private readonly Thread _thread;

    /// <summary>Opens (creates or appends to) <paramref name="path"/>.</summary>
    public FileLoggerProvider(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite), new UTF8Encoding(false));
        _thread = new Thread(WriteLoop) { IsBackground = true, Name = "herald-log-file" };
        _thread.Start();
    }

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new FileLogger(this, categoryName);

    /// <inheritdoc />
    public void Dispose()
    {
        _lines.CompleteAdding();
        _thread.Join(TimeSpan.FromSeconds(5));
        _writer.Dispose();
    }

    private void Enqueue(string line)
    {
        if (!_lines.IsAddingCompleted)
        {
            _lines.TryAdd(line); // a full queue drops the line rather than stalling the server
        }
    }

    private void WriteLoop()
    {
        foreach (var line in _lines.GetConsumingEnumerable())
        {
            _writer.WriteLine(line);
            if (_lines.Count == 0)
            {
                _writer.Flush();
            }
        }
        _writer.Flush();
    }

    private sealed class FileLogger(FileLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var text = new StringBuilder()
                .Append(DateTimeOffset.Now.ToString("yyyy-MM-dd HH:mm:ss.fff zzz", CultureInfo.InvariantCulture))
                .Append(' ').Append(Level(logLevel))
                .Append(' ').Append(category)
                .Append(": ").Append(formatter(state, exception));
            if (exception is not null)
            {
                text.AppendLine().Append(exception);
            }
            provider.Enqueue(text.ToString());
        }

        private static string Level(LogLevel level) => level switch
        {
            LogLevel.Trace => "trce",
            LogLevel.Debug => "dbug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "fail",
            _ => "crit",
        };
    }
}
