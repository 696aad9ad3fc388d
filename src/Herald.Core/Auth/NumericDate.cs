using System.Text.Json;

namespace Herald.Core.Auth;

/// <summary>
/// Reads the time claims of a JWT (<c>exp</c>, <c>nbf</c>, <c>iat</c>): a NumericDate, a JSON number of seconds since
/// 1970 (fractions allowed, RFC 7519). Anything else is refused rather than ignored: a token whose <c>exp</c> could
/// not be read would otherwise be accepted as one that never expires.
/// </summary>
internal static class NumericDate
{
    /// <summary>9999-12-31T23:59:59Z, the last second <see cref="DateTimeOffset"/> can hold.</summary>
    private const long MaxSeconds = 253_402_300_799;

    /// <summary>
    /// Reads <paramref name="claim"/> of <paramref name="payload"/>: null when absent (or JSON null), a time when it is a
    /// number from 0 to the year 9999, false with <paramref name="error"/> otherwise.
    /// </summary>
    public static bool TryRead(JsonElement payload, string claim, out DateTimeOffset? value, out string error)
    {
        value = null;
        error = "";
        if (!payload.TryGetProperty(claim, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetDouble(out var seconds) || !double.IsFinite(seconds)
            || seconds < 0 || seconds > MaxSeconds)
        {
            error = $"bad claims: {claim} must be a number of seconds since 1970 (a NumericDate) before the year 10000";
            return false;
        }
        value = DateTimeOffset.FromUnixTimeSeconds((long)seconds);
        return true;
    }
}
