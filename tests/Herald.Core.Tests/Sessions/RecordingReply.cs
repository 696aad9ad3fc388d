using Herald.Core.Sessions;

namespace Herald.Core.Tests.Sessions;

/// <summary>
/// The adapter's side of the seam, for tests that call a session directly: records what the session hands over
/// (and runs <see cref="OnOutcome"/> at that moment, while the session still holds what it holds).
/// </summary>
internal sealed class RecordingReply<TResult> : ICommandReply<TResult>
{
    private readonly List<object?> _outcomes = [];

    /// <summary>Runs when the session hands over an outcome, before it goes on.</summary>
    public Action? OnOutcome { get; init; }

    public void Succeeded() => Record(null);

    public void Succeeded(TResult result) => Record(result);

    public void Failed(CommandError error) => Record(error);

    /// <summary>The result of a command that succeeded; fails the test unless exactly one result was handed over.</summary>
    public TResult Result => Assert.IsType<TResult>(Assert.Single(_outcomes));

    /// <summary>The error of a refused command; fails the test unless exactly one error was handed over.</summary>
    public CommandError Error => Assert.IsType<CommandError>(Assert.Single(_outcomes));

    /// <summary>Whether the session said "done" with nothing to report, exactly once.</summary>
    public bool Done => _outcomes.Count == 1 && _outcomes[0] is null;

    private void Record(object? outcome)
    {
        _outcomes.Add(outcome);
        OnOutcome?.Invoke();
    }
}
