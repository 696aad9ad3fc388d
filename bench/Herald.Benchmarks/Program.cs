using BenchmarkDotNet.Running;

namespace Herald.Benchmarks;

/// <summary>Run: <c>dotnet run -c Release --project bench/Herald.Benchmarks -- --filter '*'</c> (see docs/benchmarks.md).</summary>
internal static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
