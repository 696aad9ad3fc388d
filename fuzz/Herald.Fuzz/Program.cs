using Herald.Fuzz;
using SharpFuzz;

// Herald.Fuzz <target>                 under afl-fuzz: the persistent fork server (fuzz/run.sh starts it so);
//                                      otherwise runs the input on stdin once.
// Herald.Fuzz <target> <file|dir>...   replays files (a crash AFL++ found, a corpus) and says what each did; use an
//                                      uninstrumented build for this (dotnet run --project fuzz/Herald.Fuzz -- ...).
// Herald.Fuzz --list                   the targets.
if (args.Length == 0 || args[0] is "-h" or "--help" or "--list")
{
    Console.WriteLine("usage: Herald.Fuzz <target> [file|dir ...]\ntargets:");
    foreach (var (name, description, _) in FuzzTargets.All)
    {
        Console.WriteLine($"  {name,-11} {description}");
    }
    return args.Length == 0 ? 2 : 0;
}
if (!FuzzTargets.Names.Contains(args[0]))
{
    Console.Error.WriteLine($"unknown target \"{args[0]}\"; known: {string.Join(", ", FuzzTargets.Names)}");
    return 2;
}
if (args.Length == 1)
{
    // Instrumented code may run only inside Fuzzer.Run (before it, the coverage map does not exist): the target, with
    // its node, is made by the first input.
    FuzzTarget? target = null;
    // HERALD_FUZZ_IGNORE: findings already known (text in the finding, '|'-separated) count as passes, so a session
    // explores past an open bug instead of rediscovering it.
    var ignore = (Environment.GetEnvironmentVariable("HERALD_FUZZ_IGNORE") ?? "").Split('|', StringSplitOptions.RemoveEmptyEntries);
    Fuzzer.Run(stream =>
    {
        target ??= FuzzTargets.Create(args[0])!;
        var input = new MemoryStream();
        stream.CopyTo(input);
        try
        {
            // Inputs past 1 MiB are cut: the transports refuse messages that large before any parser sees them.
            target.Run(input.Length > 1 << 20 ? input.ToArray()[..(1 << 20)] : input.ToArray());
        }
        catch (Exception ex) when (ignore.Any(known => ex.ToString().Contains(known, StringComparison.Ordinal)))
        {
        }
    });
    return 0;
}
using var replay = FuzzTargets.Create(args[0])!;
var failures = 0;
foreach (var path in args.Skip(1).SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p).Order(StringComparer.Ordinal) : (IEnumerable<string>)[p]))
{
    try
    {
        replay.Run(File.ReadAllBytes(path));
        Console.WriteLine($"ok     {path}");
    }
    catch (Exception ex)
    {
        failures++;
        Console.WriteLine($"FAILED {path}\n{ex}");
    }
}
return failures == 0 ? 0 : 1;
