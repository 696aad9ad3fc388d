using System.Globalization;

namespace Herald.Client.Tests.Chaos;

/// <summary>
/// The seed and length of a chaos run. <c>HERALD_CHAOS_SEED</c> replays a run (the seed is printed at the start and
/// in every failure); <c>HERALD_CHAOS_SECONDS</c> makes it longer, for a soak run outside the default test command.
/// </summary>
public sealed record ChaosSettings(int Seed, TimeSpan Duration)
{
    public static ChaosSettings FromEnvironment(TimeSpan defaultDuration)
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("HERALD_CHAOS_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s)
            ? s
            : Random.Shared.Next();
        var duration = double.TryParse(Environment.GetEnvironmentVariable("HERALD_CHAOS_SECONDS"), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : defaultDuration;
        return new ChaosSettings(seed, duration);
    }

    /// <summary>The command that runs <paramref name="test"/> again with this seed and length.</summary>
    public string Replay(string test) =>
        $"seed {Seed}; replay with: HERALD_CHAOS_SEED={Seed} HERALD_CHAOS_SECONDS={Duration.TotalSeconds.ToString(CultureInfo.InvariantCulture)} " +
        $"dotnet test tests/Herald.Client.Tests --filter \"FullyQualifiedName~{test}\"";
}
