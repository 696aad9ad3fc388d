using Herald.Core.Connections;

namespace Herald.Core.Attributes;

/// <summary>
/// Inverted index from attribute key=value to the connections that carry it. A <c>where</c> lookup costs in
/// proportion to the smallest candidate set among its clauses, never to the number of connections.
/// Thread-safe: lookups share a read lock, updates take the write lock.
/// </summary>
internal sealed class AttributeIndex
{
    private readonly Dictionary<string, Dictionary<string, HashSet<Connection>>> _byKey = new(StringComparer.Ordinal);
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);

    /// <summary>Replaces the indexed attributes of <paramref name="connection"/> and its <see cref="Connection.Attributes"/> together.</summary>
    public void Set(Connection connection, AttributeSet attributes)
    {
        _lock.EnterWriteLock();
        try
        {
            RemoveLocked(connection, connection.Attributes);
            connection.Attributes = attributes;
            foreach (var (key, value) in attributes.Pairs)
            {
                if (!_byKey.TryGetValue(key, out var values))
                {
                    _byKey[key] = values = new Dictionary<string, HashSet<Connection>>(StringComparer.Ordinal);
                }
                if (!values.TryGetValue(value, out var set))
                {
                    values[value] = set = [];
                }
                set.Add(connection);
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Drops <paramref name="connection"/> from the index.</summary>
    public void Remove(Connection connection)
    {
        _lock.EnterWriteLock();
        try
        {
            RemoveLocked(connection, connection.Attributes);
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>
    /// Adds every connection matching a non-empty <paramref name="where"/> to <paramref name="into"/>, each once.
    /// Returns how many candidates were examined: the size of the smallest clause's sets, not the connection count.
    /// </summary>
    public int Match(WhereFilter where, List<Connection> into)
    {
        _lock.EnterReadLock();
        try
        {
            // Pick the clause with the fewest candidates, then check the other clauses on each candidate's own set.
            WhereClause? smallest = null;
            var smallestCount = int.MaxValue;
            foreach (var clause in where.Clauses)
            {
                var count = 0;
                if (_byKey.TryGetValue(clause.Key, out var values))
                {
                    foreach (var v in clause.Values)
                    {
                        if (values.TryGetValue(v, out var set))
                        {
                            count += set.Count;
                        }
                    }
                }
                if (count < smallestCount)
                {
                    smallest = clause;
                    smallestCount = count;
                }
            }
            if (smallest is null || smallestCount == 0)
            {
                return 0;
            }
            var byValue = _byKey[smallest.Key];
            var single = where.Clauses.Count == 1;
            foreach (var v in smallest.Values)
            {
                if (!byValue.TryGetValue(v, out var set))
                {
                    continue;
                }
                foreach (var connection in set)
                {
                    // A connection has one value per key and clause values are distinct: no duplicates across sets.
                    if (single || connection.Attributes.Matches(where))
                    {
                        into.Add(connection);
                    }
                }
            }
            return smallestCount;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Number of distinct key=value pairs indexed (for diagnostics and tests).</summary>
    public int PairCount
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                return _byKey.Values.Sum(v => v.Count);
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    private void RemoveLocked(Connection connection, AttributeSet attributes)
    {
        foreach (var (key, value) in attributes.Pairs)
        {
            if (_byKey.TryGetValue(key, out var values) && values.TryGetValue(value, out var set))
            {
                set.Remove(connection);
                if (set.Count == 0)
                {
                    values.Remove(value);
                    if (values.Count == 0)
                    {
                        _byKey.Remove(key);
                    }
                }
            }
        }
    }
}
