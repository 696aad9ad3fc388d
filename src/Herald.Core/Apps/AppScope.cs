namespace Herald.Core.Apps;

/// <summary>
/// The one place that maps an app's channel and user names to the node's names, and back. The default app's names
/// are the node's own (a Pusher channel "orders" of the default app is Herald's channel "orders"); every other app's
/// name is <c>{appId} {name}</c>. A name can never hold a space (channel names refuse whitespace, Pusher names and app
/// ids hold none), so no name of one app can equal a name of another or of the default app: apps are isolated in
/// everything that follows a name (delivery, history, presence, Redis topics and keys) without an index of their own.
/// User names are marked the same way with U+001F instead of a space (<c>{appId}\u001F{user}</c>): a default-app user
/// id may hold a space (a token's <c>sub</c> "shop alice"), but never a control character (<see cref="Users.UserIds"/>).
/// </summary>
public static class AppScope
{
    private const char Separator = ' ';
    private const char UserSeparator = '\u001F';

    /// <summary>Whether <paramref name="name"/> can be scoped: not empty and without a space.</summary>
    public static bool IsScopable(string name) => name.Length > 0 && !name.Contains(Separator, StringComparison.Ordinal);

    /// <summary>The node's name of <paramref name="app"/>'s channel or user <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or holds a space: callers check names first.</exception>
    public static string Scope(AppOptions app, string name)
    {
        if (!IsScopable(name))
        {
            throw new ArgumentException($"'{name}' cannot be an app's name: it is empty or holds a space", nameof(name));
        }
        return app.IsDefault ? name : string.Concat(app.Id, " ", name);
    }

    /// <summary>
    /// The app's own name for the node's <paramref name="scoped"/> name, when it is one of <paramref name="app"/>'s.
    /// </summary>
    public static bool TryUnscope(AppOptions app, string scoped, out string name)
    {
        if (app.IsDefault)
        {
            name = scoped;
            return IsScopable(scoped);
        }
        var prefix = Prefix(app);
        if (scoped.Length > prefix.Length && scoped.StartsWith(prefix, StringComparison.Ordinal) && IsScopable(scoped[prefix.Length..]))
        {
            name = scoped[prefix.Length..];
            return true;
        }
        name = "";
        return false;
    }

    /// <summary>
    /// The app's own name within the node's <paramref name="scoped"/> channel name, whichever app it belongs to: what
    /// a Pusher client of that app calls the channel. Every subscriber of a node channel belongs to the channel's app,
    /// so a frame for all of them is encoded once with this name.
    /// </summary>
    public static string LocalName(string scoped)
    {
        var separator = scoped.IndexOf(Separator, StringComparison.Ordinal);
        return separator < 0 ? scoped : scoped[(separator + 1)..];
    }

    /// <summary>
    /// The app's own id of the node's user <paramref name="scopedUser"/>, a member of the node's channel
    /// <paramref name="scopedChannel"/>: scoped like the channel (the default app's user ids may hold spaces).
    /// </summary>
    public static string LocalUser(string scopedChannel, string scopedUser) =>
        scopedChannel.Contains(Separator, StringComparison.Ordinal) ? LocalName(scopedUser) : scopedUser;

    /// <summary>Whether the node's <paramref name="scoped"/> name belongs to <paramref name="app"/>.</summary>
    public static bool IsInApp(AppOptions app, string scoped) => TryUnscope(app, scoped, out _);

    /// <summary>
    /// What every node name of <paramref name="app"/> starts with: to list its channels by prefix. Empty for the
    /// default app, whose list must then skip names that hold a space (<see cref="IsInApp"/>).
    /// </summary>
    public static string Prefix(AppOptions app) => app.IsDefault ? "" : app.Id + Separator;

    /// <summary>The node's user id of <paramref name="app"/>'s user <paramref name="user"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="user"/> breaks <see cref="Users.UserIds"/>' rules: callers check ids first.</exception>
    public static string ScopeUser(AppOptions app, string user)
    {
        if (!Users.UserIds.IsValid(user, out var error))
        {
            throw new ArgumentException($"'{user}' cannot be an app's user id: {error}", nameof(user));
        }
        return app.IsDefault ? user : string.Concat(app.Id, UserSeparator.ToString(), user);
    }

    /// <summary>The app's own id for the node's user id <paramref name="scoped"/>, when it is one of <paramref name="app"/>'s users.</summary>
    public static bool TryUnscopeUser(AppOptions app, string scoped, out string user)
    {
        var at = scoped.IndexOf(UserSeparator, StringComparison.Ordinal);
        if (app.IsDefault)
        {
            user = at < 0 ? scoped : "";
            return at < 0 && scoped.Length > 0;
        }
        if (at == app.Id.Length && scoped.StartsWith(app.Id, StringComparison.Ordinal) && Users.UserIds.IsValid(scoped[(at + 1)..], out _))
        {
            user = scoped[(at + 1)..];
            return true;
        }
        user = "";
        return false;
    }
}
