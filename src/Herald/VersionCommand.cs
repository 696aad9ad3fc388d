using System.CommandLine;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Herald.Core;

namespace Herald;

/// <summary>
/// <c>herald version</c>: what this binary is. The commit comes from the build (the SDK stamps the git revision, or
/// <c>./build.sh</c> passes <c>SourceRevisionId</c>), the flavour from how it was published, the runtime from the
/// running process, so an operator can tell exactly which build answers.
/// </summary>
internal static class VersionCommand
{
    public static Command Create()
    {
        var version = new Command("version", "Print the version, commit, runtime and build flavour (aot, single-file, framework-dependent) of this binary.");
        version.SetAction(_ =>
        {
            foreach (var (name, value) in Facts())
            {
                Console.WriteLine($"{name,-8} {value}");
            }
            return 0;
        });
        return version;
    }

    /// <summary>The lines <c>herald version</c> prints, as name and value.</summary>
    public static IReadOnlyList<(string Name, string Value)> Facts()
    {
        var assembly = typeof(VersionCommand).Assembly;
        var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "";
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        var commit = plus >= 0 && plus < informational.Length - 1 ? informational[(plus + 1)..] : "unknown (built without git)";
        var flavour = assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "HeraldBuildFlavour")?.Value ?? "unknown";
        // The attribute says how it was published; a runtime that cannot compile code is native AOT whatever it says.
        if (!RuntimeFeature.IsDynamicCodeSupported)
        {
            flavour = "aot";
        }
        // The young-generation cap that ships in herald.runtimeconfig.json, unless the environment overrides it.
        var gen0 = Environment.GetEnvironmentVariable("DOTNET_GCGen0MaxBudget") is { Length: > 0 } fromEnvironment
            ? $"gen0 budget cap 0x{fromEnvironment} bytes from DOTNET_GCGen0MaxBudget"
            : AppContext.GetData("System.GC.Gen0MaxBudget") is { } budget ? $"gen0 budget cap {budget} bytes" : "gen0 budget uncapped";
        return
        [
            ("herald", ServerInfo.Version),
            ("commit", commit),
            ("runtime", $"{RuntimeInformation.FrameworkDescription} ({RuntimeInformation.RuntimeIdentifier}, {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC, {gen0})"),
            ("build", flavour),
        ];
    }
}
