using System.Buffers;
using System.Globalization;
using System.Text;

namespace Herald.Core.Channels;

/// <summary>
/// Rules for channel names: 1 to 255 characters, each one visible. Refused: whitespace, control characters, and
/// characters that show as nothing or are not characters at all (Unicode categories Cf, Co, Cn and lone surrogates:
/// zero-width space and joiners, the byte order mark, bidirectional controls, soft hyphen, private-use and unassigned
/// code points), so that two names that look the same are the same name.
/// </summary>
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
        for (var i = 0; i < name.Length;)
        {
            var c = name[i];
            if (c < 0x80)
            {
                // ASCII, nearly every name: only space and the control characters are refused.
                if (c <= ' ' || c == 0x7F)
                {
                    error = $"channel name contains whitespace or a control character (U+{(int)c:X4}) at position {i}";
                    return false;
                }
                i++;
                continue;
            }
            if (Rune.DecodeFromUtf16(name.AsSpan(i), out var rune, out var length) != OperationStatus.Done)
            {
                error = $"channel name contains a lone surrogate at position {i}";
                return false;
            }
            if (!IsVisible(rune))
            {
                error = $"channel name contains U+{rune.Value:X4} at position {i}, an invisible, whitespace or control character: " +
                    "channel names may hold visible characters only";
                return false;
            }
            i += length;
        }
        error = "";
        return true;
    }

    private static bool IsVisible(Rune rune) => !Rune.IsWhiteSpace(rune) && Rune.GetUnicodeCategory(rune) is not
        (UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned
        or UnicodeCategory.Surrogate or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.SpaceSeparator);
}
