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
}

/// <summary>One key of a filter and the values it accepts (any of them).</summary>
/// <param name="Key">The attribute key.</param>
/// <param name="Values">Accepted values, distinct; empty accepts nothing.</param>
public sealed record WhereClause(string Key, string[] Values)
{
    /// <summary>Whether <paramref name="value"/> is one of the accepted values.</summary>
    public bool Accepts(string value)
    {
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
