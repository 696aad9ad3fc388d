namespace Herald.Core.Attributes;

/// <summary>
/// An attribute filter: a connection matches when, for every clause, its attribute equals one of the clause's
/// values. A filter with no clauses matches every connection.
/// </summary>
public sealed class WhereFilter
{
    /// <summary>The filter that matches every connection (<c>"where":{}</c>).</summary>
    public static readonly WhereFilter All = new([]);

    /// <summary>Creates a filter from clauses; keys must be distinct.</summary>
    public WhereFilter(IReadOnlyList<WhereClause> clauses) => Clauses = clauses;

    /// <summary>The clauses, all of which must hold.</summary>
    public IReadOnlyList<WhereClause> Clauses { get; }

    /// <summary>Whether this filter matches every connection.</summary>
    public bool MatchesAll => Clauses.Count == 0;

    /// <summary>
    /// Whether no clause lists more than <paramref name="maxValues"/> values (setting max_where_values); otherwise the
    /// error names the key, so the publisher can split the publish or target users instead.
    /// </summary>
    public bool IsWithin(int maxValues, out string error)
    {
        foreach (var clause in Clauses)
        {
            if (clause.Values.Length > maxValues)
            {
                error = $"\"where\".\"{(clause.Key.Length > 64 ? clause.Key[..64] + "..." : clause.Key)}\" lists {clause.Values.Length} values, " +
                    $"at most {maxValues} allowed (setting max_where_values): split the publish";
                return false;
            }
        }
        error = "";
        return true;
    }
}

/// <summary>One key of a filter and the values it accepts (any of them).</summary>
public sealed class WhereClause
{
    /// <summary>Clauses with more values than this look them up in a hash set (a short list is faster to scan).</summary>
    private const int ScanLimit = 8;

    private readonly HashSet<string>? _set;

    /// <summary>Creates a clause; <paramref name="values"/> must be distinct, and may be empty (accepts nothing).</summary>
    public WhereClause(string key, string[] values)
        : this(key, values, StringComparer.Ordinal)
    {
    }

    /// <summary>With the comparer the value set uses (tests count its calls to prove lookups stay constant-time).</summary>
    internal WhereClause(string key, string[] values, IEqualityComparer<string> comparer)
    {
        Key = key;
        Values = values;
        _set = values.Length > ScanLimit ? new HashSet<string>(values, comparer) : null;
    }

    /// <summary>The attribute key.</summary>
    public string Key { get; }

    /// <summary>Accepted values, distinct; empty accepts nothing.</summary>
    public string[] Values { get; }

    /// <summary>Whether <paramref name="value"/> is one of the accepted values: constant time however many there are.</summary>
    public bool Accepts(string value)
    {
        if (_set is not null)
        {
            return _set.Contains(value);
        }
        foreach (var v in Values)
        {
            if (string.Equals(v, value, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }
}
