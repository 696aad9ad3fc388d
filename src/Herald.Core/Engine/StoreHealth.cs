using Microsoft.Extensions.Logging;

namespace Herald.Core.Engine;

/// <summary>
/// Whether the node's storage works: the last storage error while it lasts (health reports it), logged once when it
/// starts and once when a write succeeds again. Thread-safe.
/// </summary>
internal sealed class StoreHealth(ILogger logger)
{
    private volatile string? _error;

    /// <summary>The last storage error, or null when storage works.</summary>
    public string? Error => _error;

    /// <summary>A storage operation failed.</summary>
    public void Failed(Exception ex)
    {
        if (_error is null)
        {
            NodeLog.StoreFailed(logger, ex.Message, ex);
        }
        _error = ex.Message;
    }

    /// <summary>A write reached the store (reads work on a full disk too: only a write says storage works again).</summary>
    public void Recovered()
    {
        if (_error is not null)
        {
            _error = null;
            NodeLog.StoreRecovered(logger);
        }
    }
}
