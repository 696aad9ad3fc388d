using Herald.Configuration;

namespace Herald.Server.Tests.Process;

/// <summary>How durations and sizes in settings are read (no process: the parsers of the executable, directly).</summary>
public sealed class SettingsParsingTests
{
    [Theory]
    [InlineData("25s", 25_000)]
    [InlineData("25", 25_000)]
    [InlineData("500ms", 500)]
    [InlineData("1.5s", 1_500)]
    [InlineData("2m", 120_000)]
    [InlineData("2min", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("0", 0)]
    [InlineData(" 10s ", 10_000)]
    [InlineData("10 s", 10_000)]
    public void Durations_read_with_their_unit(string text, long milliseconds)
    {
        Assert.True(Settings.TryParseDuration(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("fast")]
    [InlineData("s")]
    [InlineData("-1s")]
    [InlineData("25x")]
    [InlineData("25sec")]
    [InlineData("1e3")]
    [InlineData("1.2.3s")]
    [InlineData(".")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("99999999999999999999h")]
    [InlineData("922337203686s")]
    public void Bad_durations_are_refused_without_throwing(string text)
    {
        Assert.False(Settings.TryParseDuration(text, out _));
    }

    [Theory]
    [InlineData("65536", 65_536)]
    [InlineData("100b", 100)]
    [InlineData("64KiB", 65_536)]
    [InlineData("64kb", 65_536)]
    [InlineData("64k", 65_536)]
    [InlineData("8MiB", 8L * 1024 * 1024)]
    [InlineData("8 MB", 8L * 1024 * 1024)]
    [InlineData("1GiB", 1024L * 1024 * 1024)]
    [InlineData("4g", 4L * 1024 * 1024 * 1024)]
    [InlineData(" 64KiB ", 65_536)]
    [InlineData("0", 0)]
    public void Sizes_read_with_binary_units(string text, long bytes)
    {
        Assert.True(Settings.TryParseSize(text, out var value));
        Assert.Equal(bytes, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("big")]
    [InlineData("KiB")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData("1.5MiB")]
    [InlineData("64XB")]
    [InlineData("64TiB")]
    [InlineData("99999999999999999999")]
    [InlineData("9223372036854775807GiB")]
    public void Bad_sizes_are_refused_without_throwing(string text)
    {
        Assert.False(Settings.TryParseSize(text, out _));
    }
}
