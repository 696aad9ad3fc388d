using Herald.Core.Apps;

namespace Herald.Core.Tests.Apps;

public sealed class AppRegistryTests
{
    private static AppOptions App(string id, string key, string secret = "secret") => new() { Id = id, Key = key, Secret = secret };

    [Fact]
    public void Apps_are_found_by_id_and_by_key_and_the_default_is_marked()
    {
        var registry = new AppRegistry([App("1", "one"), App("2", "two")], "2");

        Assert.True(registry.TryGetById("1", out var first));
        Assert.Equal("one", first.Key);
        Assert.True(registry.TryGetByKey("two", out var second));
        Assert.Equal("2", second.Id);
        Assert.True(second.IsDefault);
        Assert.False(first.IsDefault);
        Assert.Same(second, registry.Default);
        Assert.False(registry.TryGetById("one", out _));
        Assert.False(registry.TryGetByKey("1", out _));
    }

    [Theory]
    [InlineData("a b", "k", "app id 'a b' must be 1 to 64")]
    [InlineData("a/b", "k", "app id 'a/b' must be")]
    [InlineData("", "k", "app id '' must be")]
    [InlineData("a", "k k", "app 'a': key 'k k' must be")]
    [InlineData("a", "", "app 'a': key '' must be")]
    public void Ids_and_keys_follow_the_rule(string id, string key, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => new AppRegistry([App(id, key)], null));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_id_or_key_of_65_characters_is_refused_and_64_is_taken()
    {
        Assert.Throws<ArgumentException>(() => new AppRegistry([App(new string('a', 65), "k")], null));
        Assert.Single(new AppRegistry([App(new string('a', 64), new string('k', 64))], null).All);
    }

    [Fact]
    public void Ids_and_keys_are_unique_and_the_default_must_exist()
    {
        Assert.Contains("given twice", Assert.Throws<ArgumentException>(() => new AppRegistry([App("a", "k1"), App("a", "k2")], null)).Message, StringComparison.Ordinal);
        Assert.Contains("used by another app", Assert.Throws<ArgumentException>(() => new AppRegistry([App("a", "k"), App("b", "k")], null)).Message, StringComparison.Ordinal);
        Assert.Contains("default_app 'c' names no configured app; apps are: a", Assert.Throws<ArgumentException>(() => new AppRegistry([App("a", "k")], "c")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_secret_and_limits_out_of_range_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new AppRegistry([App("a", "k", "")], null));
        Assert.Contains("max_event_size_kb", Assert.Throws<ArgumentException>(() => new AppRegistry([App("a", "k") with { MaxEventSizeKb = 0 }], null)).Message, StringComparison.Ordinal);
        Assert.Contains("max_channels_per_event", Assert.Throws<ArgumentException>(() => new AppRegistry([App("a", "k") with { MaxChannelsPerEvent = 0 }], null)).Message, StringComparison.Ordinal);
        Assert.Contains("max_events_per_batch", Assert.Throws<ArgumentException>(() => new AppRegistry([App("a", "k") with { MaxEventsPerBatch = -1 }], null)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_apps_text_never_shows_its_secret()
    {
        var app = App("a", "k", "very-secret-value");
        Assert.DoesNotContain("very-secret-value", app.ToString(), StringComparison.Ordinal);
    }
}
