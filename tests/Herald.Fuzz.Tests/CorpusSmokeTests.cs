using System.Text;

namespace Herald.Fuzz.Tests;

/// <summary>
/// Every corpus file of every fuzz target (the seeds and each input AFL++ ever found) runs through its harness,
/// uninstrumented and in-process: each must be accepted or refused the documented way.
/// </summary>
public sealed class CorpusSmokeTests
{
    [Theory]
    [MemberData(nameof(FuzzCorpus.Targets), MemberType = typeof(FuzzCorpus))]
    public void Every_corpus_input_is_accepted_or_refused_the_documented_way(string target)
    {
        var files = FuzzCorpus.Files(target);
        Assert.NotEmpty(files);
        using var harness = FuzzTargets.Create(target)!;
        var failures = new StringBuilder();
        foreach (var file in files)
        {
            try
            {
                harness.Run(File.ReadAllBytes(file));
            }
            catch (Exception ex)
            {
                failures.AppendLine($"fuzz/corpus/{target}/{Path.GetFileName(file)}: {ex}").AppendLine();
            }
        }
        Assert.True(failures.Length == 0, failures.ToString());
    }
}
