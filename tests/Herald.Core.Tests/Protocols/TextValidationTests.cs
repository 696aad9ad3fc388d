using System.Text;
using Herald.Core.Attributes;
using Herald.Core.Channels;
using Herald.Core.Routing;
using Herald.Protocol;

namespace Herald.Core.Tests.Protocols;

/// <summary>The edge check of text (<see cref="JsonText"/>), the parsers' backstop, and the channel name rule.</summary>
public sealed class TextValidationTests
{
    [Theory]
    [InlineData("""{"a":"\ud83d\ude00"}""")]      // an escaped pair
    [InlineData("""{"a":"\uD83D\uDE00"}""")]      // upper-case hex
    [InlineData("""{"a":"\\ud800"}""")]           // an escaped backslash, then the letters ud800
    [InlineData("""{"a":"\\\ud83d\ude00"}""")]    // an escaped backslash, then a pair
    [InlineData("""{"a":"\u0000\uffff\n\""}""")]  // NUL, a noncharacter, other escapes
    [InlineData("""{"a":"😀 café 新闻"}""")]
    [InlineData("ping")]
    [InlineData("")]
    public void Valid_text_passes(string json) => Assert.True(JsonText.IsValid(Encoding.UTF8.GetBytes(json)));

    [Theory]
    [InlineData("""{"a":"\ud800"}""", "\"a\"")]
    [InlineData("""{"a":"\udc00"}""", "\"a\"")]
    [InlineData("""{"a":"\ud800\u0041"}""", "\"a\"")]
    [InlineData("""{"a":"\ud800\\udc00"}""", "\"a\"")]         // the low half is an escaped backslash, not an escape
    [InlineData("""{"a":"\ude00\ud83d"}""", "\"a\"")]
    [InlineData("""{"a":"x\udbff"}""", "\"a\"")]
    [InlineData("""{"a":{"b":["x","\ud800"]}}""", "\"a.b[1]\"")]
    [InlineData("""{"a":1,"\ud800":2}""", "a field name")]
    [InlineData("""{"w":{"\udfff":2}}""", "a field name in \"w\"")]
    [InlineData("""["ok",{"k":"\ud800"}]""", "\"[1].k\"")]
    [InlineData("""{"a":"\ud800""", "at byte")]                  // invalid JSON too: the position is all there is
    public void Lone_surrogate_escapes_are_refused_naming_the_field(string json, string named)
    {
        Assert.False(JsonText.TryValidate(Encoding.UTF8.GetBytes(json), out var error));
        Assert.Contains(named, error);
        Assert.Contains("lone surrogate", error);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xC0, 0x80 })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    [InlineData(new byte[] { 0xE2, 0x82 })]
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 })] // beyond U+10FFFF
    public void Bytes_that_are_not_utf8_are_refused_naming_the_field(byte[] bad)
    {
        byte[] json = [.. """{"data":{"x":"a"""u8, .. bad, .. "\"}}"u8];

        Assert.False(JsonText.TryValidate(json, out var error));
        Assert.Contains("\"data.x\" is not valid UTF-8", error);
    }

    [Theory]
    [InlineData("""{"channel":"\ud800","data":1}""")]
    [InlineData("""{"channel":"a","data":1,"\udc00":1}""")]
    [InlineData("""{"where":{"\ud800":"1"},"data":1}""")]
    [InlineData("""{"users":["\ud800"],"data":1}""")]
    public void The_publish_parser_never_throws_on_text_the_edge_refuses(string json)
    {
        Assert.False(PublishRequestParser.TryParse(Encoding.UTF8.GetBytes(json), out _, out var code, out _));
        Assert.Equal(ErrorCodes.InvalidText, code);
    }

    [Fact]
    public void The_attribute_parser_and_command_parser_never_throw_on_it_either()
    {
        Assert.False(AttributeJson.TryParseAttributes("""{"\ud800":"x"}"""u8, 32, out _, out var code, out _));
        Assert.Equal(ErrorCodes.InvalidText, code);
        Assert.False(ClientCommandParser.TryParse("""{"id":7,"method":"\ud800"}"""u8.ToArray(), out var command, out _));
        Assert.Equal(7UL, command.Id);
        Assert.Equal(7UL, ClientCommandParser.PeekId("""{"\ud800":1,"id":7,"method":"ping"}"""u8));
        Assert.Equal(0UL, ClientCommandParser.PeekId("""{"method":"ping","params":{"""u8));
    }

    [Theory]
    [InlineData("news")]
    [InlineData("café")]
    [InlineData("订单")]
    [InlineData("📰")]
    [InlineData("a:b#1,2")]
    public void Visible_channel_names_are_valid(string name) => Assert.True(ChannelName.IsValid(name, out _));

    [Theory]
    [InlineData("a b")]
    [InlineData("a\u200Bb")]
    [InlineData("\uFEFFa")]
    [InlineData("a\u00AD")]
    [InlineData("a\u202E")]
    [InlineData("a\uE000")]
    [InlineData("a\u0378")]   // unassigned
    [InlineData("a\u3000")]
    [InlineData("a\u007F")]
    public void Invisible_whitespace_and_control_characters_make_a_channel_name_invalid(string name)
    {
        Assert.False(ChannelName.IsValid(name, out var error));
        Assert.Contains("position", error);
    }

    [Fact]
    public void A_lone_surrogate_makes_a_channel_name_invalid()
    {
        // Built at run time: test data with a lone surrogate would not survive the runner's serialisation.
        Assert.False(ChannelName.IsValid("a" + (char)0xD800 + "b", out var error));
        Assert.Contains("lone surrogate", error);
        Assert.False(ChannelName.IsValid("a" + (char)0xDC00, out _));
    }

    [Fact]
    public void The_log_throttle_lets_one_line_per_cause_through_and_counts_the_rest()
    {
        var throttle = new LogThrottle(TimeSpan.FromHours(1));

        Assert.True(throttle.ShouldLog("a", out var first));
        Assert.False(throttle.ShouldLog("a", out _));
        Assert.False(throttle.ShouldLog("a", out _));
        Assert.True(throttle.ShouldLog("b", out _));
        Assert.Equal(0, first);
        for (var i = 0; i < LogThrottle.MaxCauses * 2; i++)
        {
            throttle.ShouldLog("cause " + i, out _); // beyond the cap, causes share one line
        }
        Assert.False(throttle.ShouldLog("yet another", out _));

        var zero = new LogThrottle(TimeSpan.Zero);
        zero.ShouldLog("a", out _);
        Assert.True(zero.ShouldLog("a", out var suppressed));
        Assert.Equal(0, suppressed);
    }
}
