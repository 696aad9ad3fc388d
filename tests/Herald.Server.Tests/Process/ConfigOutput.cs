using System.Text.RegularExpressions;

namespace Herald.Server.Tests.Process;

/// <summary>The lines of <c>herald config</c>, <c>key = value # origin</c>, in the order printed.</summary>
public sealed partial class ConfigOutput
{
    private ConfigOutput(IReadOnlyList<string> keys, IReadOnlyDictionary<string, Setting> settings)
    {
        Keys = keys;
        Settings = settings;
    }

    public sealed record Setting(string Value, string Origin);

    public IReadOnlyList<string> Keys { get; }

    public IReadOnlyDictionary<string, Setting> Settings { get; }

    public Setting this[string key] => Settings.TryGetValue(key, out var setting)
        ? setting
        : throw new KeyNotFoundException($"herald config printed no line for '{key}'; it printed: {string.Join(", ", Keys)}");

    public static ConfigOutput Parse(HeraldProcess.ProcessResult result)
    {
        Assert.True(result.ExitCode == 0, "herald config failed: " + result);
        var keys = new List<string>();
        var settings = new Dictionary<string, Setting>(StringComparer.Ordinal);
        foreach (var line in result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var match = Line().Match(line);
            Assert.True(match.Success, $"not a 'key = value # origin' line: '{line}'");
            var key = match.Groups["key"].Value;
            keys.Add(key);
            settings.Add(key, new Setting(match.Groups["value"].Value, match.Groups["origin"].Value));
        }
        return new ConfigOutput(keys, settings);
    }

    [GeneratedRegex(@"^(?<key>[a-z_]+) *= (?<value>.*?) *# (?<origin>.+?)\r?$")]
    private static partial Regex Line();
}
