namespace Herald.Core.Channels;

/// <summary>
/// Options of a channel namespace: channel <c>ns:rest</c> takes those of namespace <c>ns</c>; channels without a
/// colon take the default namespace's (name <c>""</c>).
/// </summary>
public sealed record NamespaceOptions
{
    /// <summary>The namespace name; empty for the default namespace.</summary>
    public string Name { get; init; } = "";

    /// <summary>Whether connections without a user (no token, or empty <c>sub</c>) may subscribe.</summary>
    public bool AnonymousSubscribe { get; init; } = true;

    /// <summary>Whether subscribing needs a subscription token (a JWT with <c>sub</c> and <c>channel</c> claims).</summary>
    public bool Private { get; init; }

    /// <summary>Whether native clients may publish to the namespace's channels.</summary>
    public bool ClientPublish { get; init; }

    /// <summary>
    /// Whether <c>#</c> limits a channel to users: <c>orders#42</c> only user 42 may subscribe, <c>chat#1,2</c> users 1 and 2.
    /// </summary>
    public bool UserLimited { get; init; } = true;

    /// <summary>Publications each channel keeps for history and recovery (0: no history).</summary>
    public int HistorySize { get; init; } = 100;

    /// <summary>How long publications stay in history.</summary>
    public TimeSpan HistoryTtl { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Whether the namespace's channels keep presence (who is subscribed).</summary>
    public bool Presence { get; init; } = true;

    /// <summary>Whether subscribers get join and leave pushes.</summary>
    public bool JoinLeave { get; init; }

    /// <summary>With join/leave: a user with several connections joins once and leaves when the last one goes.</summary>
    public bool JoinLeavePerUser { get; init; } = true;

    /// <summary>The retention of this namespace's channels.</summary>
    public Engine.RetentionLimits History => new(HistorySize, HistoryTtl);
}
