namespace Herald.Fuzz;

/// <summary>A broken invariant (not an exception of the code under test): what was expected and what happened.</summary>
internal sealed class FuzzFinding(string message) : Exception(message);
