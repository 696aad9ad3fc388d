namespace Herald.Core.Channels;

/// <summary>Rules for channel names: 1 to 255 characters, no whitespace or control characters.</summary>
public static class ChannelName
{
    /// <summary>Longest channel name.</summary>
    public const int MaxLength = 255;

    /// <summary>Checks <paramref name="name"/>; <paramref name="error"/> says what is wrong.</summary>
    public static bool IsValid(string? name, out string error)
    {
        if (string.IsNullOrEmpty(name))
        {
            error = "channel name is empty";
            return false;
        }
        if (name.Length > MaxLength)
        {
            error = $"channel name is longer than {MaxLength} characters";
            return false;
        }
        foreach (var c in name)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                error = "channel name contains whitespace or a control character";
                return false;
            }
        }
        error = "";
        return true;
    }
}
