using System.Diagnostics;
using System.Text;

namespace Herald.Server.Tests.Process;

/// <summary>
/// What <c>dotnet publish</c> produces runs on its own: the deployment path, not just the build output the other tests
/// use. Slow (a full Release build), so it carries the Slow category, but it stays in the default run.
/// </summary>
public sealed class PublishedExecutableTests
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(4);

    [Fact]
    [Trait("Category", "Slow")]
    public async Task Dotnet_publish_produces_a_herald_dll_whose_help_lists_serve_and_config()
    {
        using var output = new TempDirectory();
        var publishDirectory = Path.Combine(output.Path, "publish");
        // Intermediate files go to the temp folder too, so the test neither reads nor writes the tree's bin/ and obj/
        // (a build running beside the tests must not see half-written Release outputs).
        var artifacts = Path.Combine(output.Path, "artifacts");

        var publish = await RunDotnetAsync(
            ["publish", Path.Combine(RepositoryRoot(), "src", "Herald"), "-c", "Release", "-o", publishDirectory, "--artifacts-path", artifacts,
             "-nologo", "--disable-build-servers", "-nodeReuse:false", "-p:UseSharedCompilation=false"],
            output.Path);

        Assert.True(publish.ExitCode == 0, publish.ToString());
        var dll = Path.Combine(publishDirectory, "herald.dll");
        Assert.True(File.Exists(dll), $"no herald.dll in {publishDirectory}: {string.Join(", ", Directory.GetFiles(publishDirectory).Select(Path.GetFileName))}");
        Assert.True(File.Exists(Path.Combine(publishDirectory, "herald.runtimeconfig.json")), "the published app needs its runtimeconfig to start");

        await using var herald = HeraldProcess.Start(["--help"], dll: dll);
        var exitCode = await herald.WaitForExitAsync(TimeSpan.FromSeconds(20));

        Assert.True(exitCode == 0, herald.Describe());
        Assert.Matches(@"(?m)^\s+serve\s", herald.Stdout);
        Assert.Matches(@"(?m)^\s+config\s", herald.Stdout);
    }

    /// <summary>The folder holding Herald.slnx, found by walking up from the test's output folder.</summary>
    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Herald.slnx")))
            {
                return directory.FullName;
            }
        }
        throw new DirectoryNotFoundException($"no Herald.slnx above {AppContext.BaseDirectory}");
    }

    private static Task<HeraldProcess.ProcessResult> RunDotnetAsync(IEnumerable<string> args, string workingDirectory) =>
        BuiltBinary.RunAsync(HeraldProcess.DotnetHost(), args, workingDirectory, new Dictionary<string, string>(), PublishTimeout);
}
