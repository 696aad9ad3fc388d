using Herald.Fuzz;
using SharpFuzz;

// Herald.Fuzz <target>                 under afl-fuzz: the persistent fork server (fuzz/run.sh starts it so);
//                                      otherwise runs the input on stdin once.
// Herald.Fuzz <target> <file|dir>...   replays files (a crash AFL++ found, a corpus) and says what each did.
// Herald.Fuzz --list                   the targets.
if (args.Length == 0 || args[0] is "-h" or "--help" or "--list")
{
    Console.WriteLine("usage: Herald.Fuzz <target> [file|dir ...]\ntargets:");
    foreach (var name in FuzzTargets.Names)
    {
        using var t = FuzzTargets.Create(name)!;
        Console.WriteLine($"  {name,-11} {t.Description}");
    }
    return args.Length == 0 ? 2 : 0;
}
using var target = FuzzTargets.Create(args[0]);
if (target is null)
{
    Console.Error.WriteLine($"unknown target \"{args[0]}\"; known: {string.Join(", ", FuzzTargets.Names)}");
    return 2;
}
if (args.Length == 1)
{
    // Inputs past 1 MiB are cut: the transports refuse messages that large before any parser sees them.
    Fuzzer.Run(stream =>
    {
        var input = new MemoryStream();
        stream.CopyTo(input);
        target.Run(input.Length > 1 << 20 ? input.ToArray()[..(1 << 20)] : input.ToArray());
    });
    return 0;
}
var failures = 0;
foreach (var path in args.Skip(1).SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p).Order(StringComparer.Ordinal) : (IEnumerable<string>)[p]))
{
    try
    {
        target.Run(File.ReadAllBytes(path));
        Console.WriteLine($"ok     {path}");
    }
    catch (Exception ex)
    {
        failures++;
        Console.WriteLine($"FAILED {path}\n{ex}");
    }
}
return failures == 0 ? 0 : 1;
