using Herald.Core.Apps;

namespace Herald.Core.Protocols.Pusher;

/// <summary>What a Pusher channel's name says: whether it is valid, and its kind (private, presence, encrypted, cache).</summary>
internal static class PusherChannelNames
{
    /// <summary>Longest channel name a client may subscribe to (Pusher's limit).</summary>
    public const int MaxLength = 164;

    /// <summary>The prefix of the channel of a signed-in user's events (<c>#server-to-user-{id}</c>).</summary>
    public const string ServerToUser = "#server-to-user-";

    /// <summary>The rule a client channel name follows, for error messages.</summary>
    public const string Rule = "1 to 164 characters of A-Z, a-z, 0-9 and _ - = @ , . ;";

    /// <summary>
    /// Whether <paramref name="name"/> is a channel name a client may give: 1 to 164 characters of A-Z, a-z, 0-9 and
    /// <c>_ - = @ , . ;</c> (no space and no ':', so never another app's scoped name nor a Herald namespace), or
    /// <c>#server-to-user-{id}</c> with such an id.
    /// </summary>
    public static bool IsValid(string? name)
    {
        if (name is not { Length: > 0 and <= MaxLength })
        {
            return false;
        }
        var rest = name.StartsWith(ServerToUser, StringComparison.Ordinal) ? name.AsSpan(ServerToUser.Length) : name.AsSpan();
        if (rest.IsEmpty)
        {
            return false;
        }
        foreach (var c in rest)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '-' or '=' or '@' or ',' or '.' or ';'))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Whether the app's channel <paramref name="name"/> needs a signature (private and presence channels).</summary>
    public static bool IsPrivate(string name) => name.StartsWith("private-", StringComparison.Ordinal) || IsPresenceName(name);

    /// <summary>Whether the app's channel <paramref name="name"/> is a presence channel.</summary>
    public static bool IsPresenceName(string name) => name.StartsWith("presence-", StringComparison.Ordinal);

    /// <summary>Whether the node's <paramref name="scoped"/> channel is a Pusher presence channel of any app.</summary>
    public static bool IsPresence(string scoped) => IsPresenceName(AppScope.LocalName(scoped));

    /// <summary>Whether the app's channel <paramref name="name"/> is end-to-end encrypted (relayed unchanged, no client events).</summary>
    public static bool IsEncrypted(string name) => name.StartsWith("private-encrypted-", StringComparison.Ordinal);

    /// <summary>Whether the app's channel <paramref name="name"/> is a cache channel (its last event is replayed on subscribe).</summary>
    public static bool IsCache(string name) =>
        name.StartsWith("cache-", StringComparison.Ordinal)
        || name.StartsWith("private-cache-", StringComparison.Ordinal)
        || name.StartsWith("private-encrypted-cache-", StringComparison.Ordinal)
        || name.StartsWith("presence-cache-", StringComparison.Ordinal);

    /// <summary>The user whose events channel <paramref name="name"/> is (<c>#server-to-user-{id}</c>), or null.</summary>
    public static string? ServerToUserId(string name) =>
        name.StartsWith(ServerToUser, StringComparison.Ordinal) ? name[ServerToUser.Length..] : null;
}
