namespace Herald.Core.Engine;

/// <summary>Makes epochs: short random names for a stream's incarnation.</summary>
public static class Epochs
{
    /// <summary>A new random epoch (8 hex characters).</summary>
    public static string New() => Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next() | 1));
}
