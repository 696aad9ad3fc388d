namespace Herald.Core.Attributes;

/// <summary>
/// The attributes of one connection (<c>{"school_id":"2","school_class_id":"1"}</c>): an immutable set of string
/// pairs, sorted by key. Replaced as a whole, never changed in place, so readers need no lock.
/// </summary>
public sealed class AttributeSet
{
    /// <summary>The set with no attributes.</summary>
    public static readonly AttributeSet Empty = new([]);

    private readonly KeyValuePair<string, string>[] _pairs;

    private AttributeSet(KeyValuePair<string, string>[] sortedPairs) => _pairs = sortedPairs;

    /// <summary>Builds a set; a key given twice keeps its last value.</summary>
    public static AttributeSet From(IEnumerable<KeyValuePair<string, string>> pairs)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in pairs)
        {
            map[key] = value;
        }
        if (map.Count == 0)
        {
            return Empty;
        }
        var array = map.ToArray();
        Array.Sort(array, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        return new AttributeSet(array);
    }

    /// <summary>Number of attributes.</summary>
    public int Count => _pairs.Length;

    /// <summary>The pairs, sorted by key.</summary>
    public ReadOnlySpan<KeyValuePair<string, string>> Pairs => _pairs;

    /// <summary>Looks up one attribute.</summary>
    public bool TryGetValue(string key, out string value)
    {
        // Sets are small (a handful of keys): a linear scan beats hashing here.
        foreach (var pair in _pairs)
        {
            if (string.Equals(pair.Key, key, StringComparison.Ordinal))
            {
                value = pair.Value;
                return true;
            }
        }
        value = "";
        return false;
    }

    /// <summary>Whether every clause of <paramref name="where"/> holds for this set.</summary>
    public bool Matches(WhereFilter where)
    {
        foreach (var clause in where.Clauses)
        {
            if (!TryGetValue(clause.Key, out var value) || !clause.Accepts(value))
            {
                return false;
            }
        }
        return true;
    }

    /// <inheritdoc />
    public override string ToString() => "{" + string.Join(",", _pairs.Select(p => $"\"{p.Key}\":\"{p.Value}\"")) + "}";
}
