using System.Net;
using System.Text.Json;
using Herald.Protocol;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Adversarial;

/// <summary>
/// Channel names that look like another name (invisible, whitespace, control, private-use or unassigned characters)
/// are refused with error 107 everywhere a channel is named; visible names in any script are fine.
/// </summary>
public sealed class LookAlikeChannelNameTests(AdversarialServer fixture) : IClassFixture<AdversarialServer>
{
    public static TheoryData<string> LookAlikes() =>
    [
        "watch\u200B",  // zero-width space
        "\uFEFFwatch",  // byte order mark
        "wat\u00ADch",  // soft hyphen
        "watch\u200D",  // zero-width joiner
        "watch\u2060",  // word joiner
        "\u202Ehctaw",  // right-to-left override
        "watch\u2066",  // left-to-right isolate
        "watch\uE000",  // private use
        "watch\u0085",  // next line (a control character)
        "watch\u3000",  // ideographic space
        "watch\u2028",  // line separator
        "watch\u00A0",  // no-break space
        "watch\U000E0001", // language tag (a format character beyond U+FFFF)
        "watch\uFFFF",  // a noncharacter
    ];

    [Theory]
    [MemberData(nameof(LookAlikes))]
    public async Task A_look_alike_channel_name_is_refused_with_107_by_subscribe_publish_and_history(string name)
    {
        var json = JsonSerializer.Serialize(name);
        var client = await fixture.Server.ConnectNativeAsync();

        var subscribe = await TestServer.CallAsync(client, 77, "subscribe", $$"""{"channel":{{json}}}""");
        var publish = await fixture.Server.PostApiAsync("publish", $$"""{"channel":{{json}},"data":1}""");
        var history = await fixture.Server.PostApiAsync("history", $$"""{"channel":{{json}}}""");

        Assert.Equal(77UL, subscribe.GetProperty("id").GetUInt64());
        Assert.Equal(ErrorCodes.InvalidChannel, subscribe.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Contains("U+", subscribe.GetProperty("error").GetProperty("message").GetString());
        await AdversarialServer.AssertApiErrorAsync(publish, HttpStatusCode.BadRequest, ErrorCodes.InvalidChannel);
        await AdversarialServer.AssertApiErrorAsync(history, HttpStatusCode.BadRequest, ErrorCodes.InvalidChannel);
        Assert.Equal(0, fixture.Server.Node.SubscriberCount(name));
        await fixture.AssertUnaffectedAsync();
        await client.DisposeAsync();
    }

    public static TheoryData<string> VisibleNames() => ["café", "新闻头条", "📰news", "ns-1_2.3", "Ωmega", "שלום"];

    [Theory]
    [MemberData(nameof(VisibleNames))]
    public async Task Visible_names_in_any_script_are_accepted(string name)
    {
        var json = JsonSerializer.Serialize(name);
        var client = await fixture.Server.ConnectNativeAsync();

        var subscribe = await TestServer.CallAsync(client, 77, "subscribe", $$"""{"channel":{{json}}}""");

        Assert.True(subscribe.TryGetProperty("result", out _), subscribe.ToString());
        await client.DisposeAsync();
    }
}
