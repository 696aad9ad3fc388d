using System.Text.RegularExpressions;

namespace Herald.Server.Pusher;

/// <summary>The Pusher protocol's rules for the names the HTTP API takes: channels, events, socket ids, users.</summary>
internal static partial class PusherNames
{
    /// <summary>Longest channel or event name (the Pusher server SDKs' limit).</summary>
    public const int MaxNameLength = 200;

    /// <summary>
    /// A channel name: A-Z, a-z, 0-9 and <c>_ - = @ , . ;</c>, optionally after a '#' (<c>#server-to-user-{id}</c>),
    /// 1 to 200 characters. Never a space nor a ':', so never another app's scoped name nor a Herald namespace.
    /// </summary>
    public static bool IsValidChannel(string? name) => name is { Length: > 0 and <= MaxNameLength } && ChannelPattern().IsMatch(name);

    /// <summary>A socket id: <c>digits.digits</c>.</summary>
    public static bool IsValidSocketId(string? id) => id is { Length: > 0 and <= 64 } && SocketIdPattern().IsMatch(id);

    /// <summary>
    /// An event name: 1 to 200 characters, not one of the protocol's own (<c>pusher:</c>, <c>pusher_internal:</c>), which
    /// clients would take for the server's.
    /// </summary>
    public static bool IsValidEvent(string? name, out string error)
    {
        if (name is not { Length: > 0 and <= MaxNameLength })
        {
            error = $"\"name\" must be an event name of 1 to {MaxNameLength} characters";
            return false;
        }
        if (name.StartsWith("pusher:", StringComparison.Ordinal) || name.StartsWith("pusher_internal:", StringComparison.Ordinal))
        {
            error = $"Event name '{name}' is reserved: names starting with pusher: or pusher_internal: belong to the protocol";
            return false;
        }
        error = "";
        return true;
    }

    /// <summary>A user id as a path segment names it: 1 to 200 characters, none of them whitespace or a control character.</summary>
    public static bool IsValidUserId(string? id) => id is { Length: > 0 and <= MaxNameLength } && !id.Any(c => char.IsWhiteSpace(c) || char.IsControl(c));

    /// <summary>Whether <paramref name="name"/> is a presence channel (user counts and member lists apply).</summary>
    public static bool IsPresence(string name) => name.StartsWith("presence-", StringComparison.Ordinal);

    [GeneratedRegex("^#?[A-Za-z0-9_\\-=@,.;]+$", RegexOptions.CultureInvariant)]
    private static partial Regex ChannelPattern();

    [GeneratedRegex("^[0-9]+\\.[0-9]+$", RegexOptions.CultureInvariant)]
    private static partial Regex SocketIdPattern();
}
