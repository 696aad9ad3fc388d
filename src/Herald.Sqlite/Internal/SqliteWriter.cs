using Herald.Core.Engine;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Herald.Sqlite.Internal;

/// <summary>
/// The one thread that writes. Callers queue operations; the thread takes everything queued (up to
/// <see cref="MaxBatch"/>), applies it in one transaction, commits, and only then completes each caller's task: group
/// commit, so a burst of publishes costs one commit, not one per publish. Operations complete in queue order, so
/// appends to one channel complete in offset order. A failed transaction fails every operation of its batch with a
/// <see cref="StoreUnavailableException"/> and assigns nothing; the next batch tries again.
/// </summary>
internal sealed class SqliteWriter : IDisposable
{
    /// <summary>Most operations in one transaction: large enough to amortise the commit, small enough to keep latency low.</summary>
    public const int MaxBatch = 256;

    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(5);

    private readonly object _gate = new();
    private readonly Queue<WriteOperation> _queue = new();
    private readonly WriteSession _session;
    private readonly string _path;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Thread _thread;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _stopping;
    private bool _sweepRequested = true;
    private long _lastSweep;
    private int _failures;
    private long _transactions;
    private long _operations;

    public SqliteWriter(SqliteConnection connection, string path, ILogger logger, TimeProvider time)
    {
        _session = new WriteSession(connection);
        _path = path;
        _logger = logger;
        _time = time;
        _lastSweep = time.GetTimestamp();
        _thread = new Thread(Run) { Name = "Herald SQLite writer", IsBackground = true };
        _thread.Start();
    }

    /// <summary>Committed transactions so far (group commit makes this far smaller than <see cref="Operations"/> under load).</summary>
    internal long Transactions => Interlocked.Read(ref _transactions);

    /// <summary>Operations committed so far.</summary>
    internal long Operations => Interlocked.Read(ref _operations);

    /// <summary>Queues <paramref name="apply"/>; the task completes once its transaction committed.</summary>
    public Task<T> WriteAsync<T>(Func<WriteSession, T> apply, CancellationToken cancellation)
    {
        if (cancellation.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellation);
        }
        var operation = new WriteOperation<T>(apply, cancellation);
        lock (_gate)
        {
            if (_stopping)
            {
                return Task.FromException<T>(new StoreUnavailableException($"the database {_path} is closed (the server is shutting down)"));
            }
            _queue.Enqueue(operation);
            if (_queue.Count == 1)
            {
                Monitor.Pulse(_gate);
            }
        }
        return operation.Task;
    }

    /// <summary>Deletes expired entries of streams nobody appends to any more (appends trim their own stream).</summary>
    internal Task<int> SweepNowAsync() => WriteAsync(session => session.SweepExpired(), CancellationToken.None);

    private void Run()
    {
        var batch = new List<WriteOperation>(MaxBatch);
        try
        {
            while (Take(batch))
            {
                if (batch.Count > 0)
                {
                    Execute(batch);
                    batch.Clear();
                }
                SweepWhenDue();
            }
        }
        finally
        {
            _session.Dispose();
            _stopped.TrySetResult();
        }
    }

    /// <summary>Waits for work and takes up to <see cref="MaxBatch"/> operations; false once stopping and drained.</summary>
    private bool Take(List<WriteOperation> batch)
    {
        lock (_gate)
        {
            while (_queue.Count == 0 && !_stopping)
            {
                // A real-time wake-up so an idle writer still sweeps; whether a sweep is due is decided on the store's clock.
                if (!Monitor.Wait(_gate, SweepInterval))
                {
                    return true;
                }
            }
            if (_queue.Count == 0)
            {
                return false;
            }
            while (batch.Count < MaxBatch && _queue.TryDequeue(out var operation))
            {
                batch.Add(operation);
            }
            return true;
        }
    }

    private void Execute(List<WriteOperation> batch)
    {
        var applied = 0;
        try
        {
            _session.Begin(_time.GetUtcNow().ToUnixTimeMilliseconds());
            foreach (var operation in batch)
            {
                if (operation.Cancellation.IsCancellationRequested)
                {
                    operation.Cancel();
                    continue;
                }
                operation.Apply(_session);
                applied++;
            }
            _session.Commit();
        }
        catch (Exception error)
        {
            _session.Rollback();
            Fail(batch, error);
            return;
        }
        Interlocked.Increment(ref _transactions);
        Interlocked.Add(ref _operations, applied);
        if (_failures > 0)
        {
            SqliteStoreLog.WritesRecovered(_logger, _failures);
            _failures = 0;
        }
        foreach (var operation in batch)
        {
            operation.Complete();
        }
    }

    private void Fail(List<WriteOperation> batch, Exception error)
    {
        var reported = error is SqliteException sqlite ? SqliteErrors.Unavailable(sqlite, _path) : error;
        if (_failures++ == 0)
        {
            SqliteStoreLog.WriteFailed(_logger, batch.Count, reported.Message, error);
        }
        else
        {
            SqliteStoreLog.WriteFailedAgain(_logger, batch.Count, reported.Message);
        }
        foreach (var operation in batch)
        {
            operation.Fail(reported);
        }
    }

    private void SweepWhenDue()
    {
        if (!_sweepRequested && _time.GetElapsedTime(_lastSweep) < SweepInterval)
        {
            return;
        }
        _sweepRequested = false;
        _lastSweep = _time.GetTimestamp();
        try
        {
            _session.Begin(_time.GetUtcNow().ToUnixTimeMilliseconds());
            _session.SweepExpired();
            _session.Commit();
        }
        catch (Exception error)
        {
            _session.Rollback();
            SqliteStoreLog.SweepFailed(_logger, error is SqliteException sqlite ? SqliteErrors.Describe(sqlite, _path) : error.Message, error);
        }
    }

    /// <summary>Stops taking writes, finishes the queued ones, and closes the connection.</summary>
    public Task StopAsync()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.PulseAll(_gate);
        }
        return _stopped.Task;
    }

    public void Dispose() => StopAsync().GetAwaiter().GetResult();
}
