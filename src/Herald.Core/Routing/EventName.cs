using Herald.Core.Channels;

namespace Herald.Core.Routing;

/// <summary>
/// Rules for the event name a publish may carry (<see cref="PublishRequest.Event"/>): 1 to 200 characters (the Pusher
/// protocol's limit), each one visible, by the same rule as channel names, so a name never hides characters that
/// break a log line or look like another name.
/// </summary>
public static class EventName
{
    /// <summary>Longest event name.</summary>
    public const int MaxLength = 200;

    /// <summary>Checks <paramref name="name"/>; <paramref name="error"/> says what is wrong.</summary>
    public static bool IsValid(string? name, out string error)
    {
        if (string.IsNullOrEmpty(name))
        {
            error = "\"event\" is empty: give a name of 1 to 200 visible characters, or leave \"event\" out";
            return false;
        }
        if (name.Length > MaxLength)
        {
            error = $"\"event\" is longer than {MaxLength} characters";
            return false;
        }
        // Within the length limit the channel-name rule is exactly the visibility rule: one rule for both names,
        // its message told in terms of events.
        if (!ChannelName.IsValid(name, out var visibility))
        {
            error = visibility.Replace("channel name", "event name", StringComparison.Ordinal);
            return false;
        }
        error = "";
        return true;
    }
}
