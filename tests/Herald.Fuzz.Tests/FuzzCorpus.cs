namespace Herald.Fuzz.Tests;

/// <summary>The repository's fuzz/ folder: the seed corpus per target and the AFL++ dictionaries.</summary>
internal static class FuzzCorpus
{
    private static readonly Lazy<string> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var fuzz = Path.Combine(dir.FullName, "fuzz", "corpus");
            if (Directory.Exists(fuzz))
            {
                return Path.Combine(dir.FullName, "fuzz");
            }
        }
        throw new DirectoryNotFoundException("fuzz/corpus not found above " + AppContext.BaseDirectory);
    });

    /// <summary>Every target name, for theories.</summary>
    public static TheoryData<string> Targets => [.. FuzzTargets.Names];

    /// <summary>The corpus files of <paramref name="target"/>, in name order.</summary>
    public static string[] Files(string target) =>
        [.. Directory.GetFiles(Path.Combine(Root.Value, "corpus", target)).Order(StringComparer.Ordinal)];

    /// <summary>One corpus file's bytes.</summary>
    public static byte[] Read(string target, string name) => File.ReadAllBytes(Path.Combine(Root.Value, "corpus", target, name));

    /// <summary>The tokens of the AFL++ dictionaries (fuzz/dict/*.dict), unescaped: the mutation smoke inserts them too.</summary>
    public static byte[][] DictionaryTokens()
    {
        var tokens = new List<byte[]>();
        foreach (var file in Directory.GetFiles(Path.Combine(Root.Value, "dict"), "*.dict"))
        {
            foreach (var line in File.ReadLines(file))
            {
                var open = line.IndexOf('"');
                if (line.StartsWith('#') || open < 0 || !line.EndsWith('"') || open == line.Length - 1)
                {
                    continue;
                }
                tokens.Add(Unescape(line[(open + 1)..^1]));
            }
        }
        return [.. tokens];
    }

    /// <summary>AFL++ dictionary escapes: \\, \" and \xNN.</summary>
    private static byte[] Unescape(string text)
    {
        var bytes = new List<byte>();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 1 < text.Length)
            {
                if (text[i + 1] == 'x' && i + 3 < text.Length)
                {
                    bytes.Add(Convert.ToByte(text.Substring(i + 2, 2), 16));
                    i += 3;
                    continue;
                }
                bytes.Add((byte)text[i + 1]);
                i++;
                continue;
            }
            bytes.Add((byte)text[i]);
        }
        return [.. bytes];
    }
}
