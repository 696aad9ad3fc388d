namespace Herald.Fuzz.Tests;

/// <summary>
/// Seeded random mutations of each target's corpus through its harness: a few thousand inputs per target, the same
/// ones on every run (seed per target, or HERALD_FUZZ_SEED to try others; HERALD_FUZZ_MUTATIONS for how many). A
/// failure names the seed, the iteration and the input, so it replays, and the input can join the corpus.
/// HERALD_FUZZ_IGNORE (as for fuzz/run.sh) counts findings whose report contains one of its '|'-separated texts as
/// passes, to look past a known open bug locally.
/// </summary>
public sealed class MutationSmokeTests
{
    private const int DefaultMutations = 3000;

    [Theory]
    [MemberData(nameof(FuzzCorpus.Targets), MemberType = typeof(FuzzCorpus))]
    public void Mutated_inputs_are_accepted_or_refused_the_documented_way(string target)
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("HERALD_FUZZ_SEED"), out var s) ? s : StableSeed(target);
        var count = int.TryParse(Environment.GetEnvironmentVariable("HERALD_FUZZ_MUTATIONS"), out var n) ? n : DefaultMutations;
        var seeds = FuzzCorpus.Files(target).Select(File.ReadAllBytes).ToArray();
        var mutator = new Mutator(new Random(seed), seeds, FuzzCorpus.DictionaryTokens());
        var ignore = (Environment.GetEnvironmentVariable("HERALD_FUZZ_IGNORE") ?? "").Split('|', StringSplitOptions.RemoveEmptyEntries);
        using var harness = FuzzTargets.Create(target)!;
        for (var i = 0; i < count; i++)
        {
            var input = mutator.Next();
            try
            {
                harness.Run(input);
            }
            catch (Exception ex) when (ignore.Any(known => ex.ToString().Contains(known, StringComparison.Ordinal)))
            {
                // a known open finding: look past it
            }
            catch (Exception ex)
            {
                Assert.Fail($"target {target}, HERALD_FUZZ_SEED={seed}, mutation {i + 1} of {count}: input (base64) {Convert.ToBase64String(input)}\n" +
                    $"save it with: echo '{Convert.ToBase64String(input)}' | base64 -d > fuzz/corpus/{target}/found-<what>\n{ex}");
            }
        }
    }

    /// <summary>A seed that differs per target and stays the same across runs and machines (string.GetHashCode does not).</summary>
    private static int StableSeed(string target) => target.Aggregate(17, (h, c) => unchecked(h * 31 + c));
}
