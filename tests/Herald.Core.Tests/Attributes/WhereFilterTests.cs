using System.Text;
using System.Text.Json;
using Herald.Core.Attributes;

namespace Herald.Core.Tests.Attributes;

/// <summary>
/// A <c>where</c> filter is read and evaluated in time linear in its size: counted in comparer calls, not timed.
/// (A list scan per value made 100,000 values cost 25 s of CPU.)
/// </summary>
public sealed class WhereFilterTests
{
    [Fact]
    public void Reading_a_where_with_many_values_compares_each_value_a_constant_number_of_times()
    {
        const int distinct = 20_000;
        var json = new StringBuilder("""{"school":[""");
        for (var i = 0; i < 2 * distinct; i++)
        {
            json.Append(i == 0 ? "" : ",").Append('"').Append(i % distinct).Append('"'); // every value twice
        }
        json.Append("]}");
        var comparer = new CountingComparer();
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json.ToString()));
        reader.Read();

        Assert.True(AttributeJson.TryReadWhere(ref reader, comparer, out var where, out var error), error);

        var clause = Assert.Single(where.Clauses);
        Assert.Equal(distinct, clause.Values.Length);
        Assert.Equal(Enumerable.Range(0, distinct).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), clause.Values);
        Assert.True(comparer.Calls < 10L * 2 * distinct, $"{comparer.Calls} comparer calls for {2 * distinct} values: not linear");
    }

    [Fact]
    public void Matching_a_connection_against_a_large_clause_is_one_lookup()
    {
        var values = Enumerable.Range(0, 50_000).Select(i => "v" + i).ToArray();
        var comparer = new CountingComparer();
        var clause = new WhereClause("k", values, comparer);
        var built = comparer.Calls;

        var hits = values.Count(clause.Accepts) + (clause.Accepts("nope") ? 1 : 0);

        Assert.Equal(values.Length, hits);
        Assert.True(comparer.Calls - built < 4L * (values.Length + 1), $"{comparer.Calls - built} comparer calls for {values.Length + 1} lookups");
    }

    [Fact]
    public void A_clause_with_more_values_than_the_limit_is_refused_naming_the_key_and_setting()
    {
        var where = new WhereFilter([new WhereClause("a", ["1"]), new WhereClause("school", [.. Enumerable.Range(0, 11).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))])]);

        Assert.True(where.IsWithin(11, out _));
        Assert.False(where.IsWithin(10, out var error));
        Assert.Contains("\"school\" lists 11 values, at most 10 allowed (setting max_where_values)", error);
    }

    [Fact]
    public void Short_and_long_clauses_accept_exactly_their_values()
    {
        foreach (var count in new[] { 0, 1, 8, 9, 100 })
        {
            var clause = new WhereClause("k", [.. Enumerable.Range(0, count).Select(i => "v" + i)]);
            for (var i = 0; i < count; i++)
            {
                Assert.True(clause.Accepts("v" + i));
            }
            Assert.False(clause.Accepts("v" + count));
            Assert.False(clause.Accepts("V0"));
        }
    }

    /// <summary>Ordinal comparison that counts how often it is asked.</summary>
    private sealed class CountingComparer : IEqualityComparer<string>
    {
        public long Calls { get; private set; }

        public bool Equals(string? x, string? y)
        {
            Calls++;
            return string.Equals(x, y, StringComparison.Ordinal);
        }

        public int GetHashCode(string obj)
        {
            Calls++;
            return StringComparer.Ordinal.GetHashCode(obj);
        }
    }
}
