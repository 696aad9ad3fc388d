using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Herald.Protocol;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Adversarial;

/// <summary>
/// Text no conforming client can read (invalid UTF-8, lone surrogate escapes) through every ingress: refused where it
/// enters with error 115 naming the field (with the command's id), nothing stored or delivered, everyone else unaffected.
/// </summary>
public sealed class InvalidTextTests(AdversarialServer fixture) : IClassFixture<AdversarialServer>
{
    /// <summary>Publish bodies with <c>BAD</c> in one field, and the field's name the error must give.</summary>
    private static readonly (string Field, string Template)[] PublishBodies =
    [
        ("data", """{"channel":"watch","user":"watcher","data":"BAD"}"""),
        ("data.note", """{"channel":"watch","user":"watcher","data":{"note":"BAD"}}"""),
        ("data[1]", """{"channel":"watch","data":["ok","BAD"]}"""),
        ("channel", """{"channel":"watchBAD","data":1}"""),
        ("channels[1]", """{"channels":["watch","BAD"],"data":1}"""),
        ("user", """{"channel":"watch","user":"watcherBAD","data":1}"""),
        ("users[0]", """{"users":["BAD"],"channel":"watch","data":1}"""),
        ("where.room", """{"where":{"room":"BAD"},"data":1}"""),
        ("where.room[1]", """{"where":{"room":["watch","BAD"]},"data":1}"""),
        ("field name in \"where\"", """{"where":{"BAD":"watch"},"data":1}"""),
        ("idempotency_key", """{"channel":"watch","idempotency_key":"BAD","data":1}"""),
        ("extra", """{"channel":"watch","data":1,"extra":"BAD"}"""),
    ];

    public static TheoryData<string, string> PublishCases() => Cases(PublishBodies.Select(b => b.Field), BadText.All.Keys);

    [Theory]
    [MemberData(nameof(PublishCases))]
    public async Task Http_publish_with_invalid_text_gets_400_and_error_115_naming_the_field_and_nothing_is_stored_or_sent(string field, string text)
    {
        var body = BadText.Into(Template(PublishBodies, field), BadText.All[text]);

        var message = await AdversarialServer.AssertApiErrorAsync(await fixture.PostRawAsync("publish", body), HttpStatusCode.BadRequest, ErrorCodes.InvalidText);

        Assert.Contains(field, message);
        await fixture.AssertUnaffectedAsync();
    }

    [Theory]
    [MemberData(nameof(PublishCases))]
    public async Task Udp_datagrams_with_invalid_text_are_dropped_and_counted_and_ingress_goes_on(string field, string text)
    {
        var dropped = fixture.Server.Server.Udp.Dropped;

        await SendUdpAndWaitAsync(BadText.Into(Template(PublishBodies, field), BadText.All[text]));

        Assert.Equal(dropped + 1, fixture.Server.Server.Udp.Dropped);
        await fixture.AssertUnaffectedAsync(good => fixture.Server.SendUdpAsync(good));
    }

    /// <summary>The other HTTP API methods, each with <c>BAD</c> in a field it reads (or ignores).</summary>
    private static readonly (string Case, string Template)[] MethodBodies =
    [
        ("history", """{"channel":"BAD"}"""),
        ("history since epoch", """{"channel":"watch","since":{"offset":1,"epoch":"BAD"}}"""),
        ("history_remove", """{"channel":"watchBAD"}"""),
        ("inbox", """{"user":"BAD"}"""),
        ("inbox_ack", """{"user":"watcherBAD","offset":1}"""),
        ("inbox_delete", """{"user":"watcherBAD"}"""),
        ("online", """{"users":["watcher","BAD"]}"""),
        ("presence", """{"channel":"watch","cursor":"BAD"}"""),
        ("presence_stats", """{"channel":"BAD"}"""),
        ("channels", """{"prefix":"BAD"}"""),
        ("count", """{"where":{"room":"BAD"}}"""),
        ("disconnect", """{"user":"watcher","reason":"BAD"}"""),
        ("subscribe", """{"user":"watcher","channel":"BAD"}"""),
        ("unsubscribe", """{"client":"BAD","channel":"watch"}"""),
        ("attributes", """{"user":"watcher","attrs":{"room":"BAD"}}"""),
        ("attributes key", """{"user":"watcher","attrs":{"BAD":"x"}}"""),
        ("info", """{"extra":"BAD"}"""),
    ];

    public static TheoryData<string, string> MethodCases() => Cases(MethodBodies.Select(b => b.Case), BadText.All.Keys);

    [Theory]
    [MemberData(nameof(MethodCases))]
    public async Task Every_http_method_refuses_invalid_text_with_400_and_error_115_and_changes_nothing(string method, string text)
    {
        var body = BadText.Into(Template(MethodBodies, method), BadText.All[text]);

        await AdversarialServer.AssertApiErrorAsync(await fixture.PostRawAsync(method.Split(' ')[0], body), HttpStatusCode.BadRequest, ErrorCodes.InvalidText);

        await fixture.AssertUnaffectedAsync();
    }

    /// <summary>Native commands of a connected client with a lone surrogate escape in one place, and the field named.</summary>
    private static readonly (string Field, string Template)[] Commands =
    [
        ("params.channel", """{"id":77,"method":"subscribe","params":{"channel":"watchBAD"}}"""),
        ("params.since.epoch", """{"id":77,"method":"subscribe","params":{"channel":"watch","since":{"offset":1,"epoch":"BAD"}}}"""),
        ("params.channel", """{"id":77,"method":"unsubscribe","params":{"channel":"BAD"}}"""),
        ("params.data", """{"id":77,"method":"publish","params":{"channel":"watch","data":"BAD"}}"""),
        ("params.attrs.room", """{"id":77,"method":"attrs","params":{"attrs":{"room":"BAD"}}}"""),
        ("field name in \"params.attrs\"", """{"id":77,"method":"attrs","params":{"attrs":{"BAD":"x"}}}"""),
        ("params.cursor", """{"id":77,"method":"presence","params":{"channel":"watch","cursor":"BAD"}}"""),
        ("params.channel", """{"id":77,"method":"presence_stats","params":{"channel":"BAD"}}"""),
        ("params.token", """{"id":77,"method":"refresh","params":{"token":"BAD"}}"""),
        ("params.extra", """{"id":77,"method":"inbox_ack","params":{"offset":1,"extra":"BAD"}}"""),
        ("method", """{"id":77,"method":"subBAD"}"""),
        ("field name", """{"id":77,"method":"ping","BAD":1}"""),
        ("params.x", """{"method":"ping","params":{"x":"BAD"},"id":77}"""),
    ];

    public static TheoryData<int, string> CommandCases()
    {
        var data = new TheoryData<int, string>();
        for (var i = 0; i < Commands.Length; i++)
        {
            foreach (var text in BadText.Escapes.Keys)
            {
                data.Add(i, text);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CommandCases))]
    public async Task Native_commands_with_a_lone_surrogate_get_error_115_with_their_id_and_the_connection_stays(int command, string text)
    {
        var (field, template) = Commands[command];
        var sender = await fixture.Server.ConnectNativeAsync();

        await sender.SendAsync(BadText.Into(template, BadText.Escapes[text]), WebSocketMessageType.Text);
        var error = await sender.ReceiveJsonUntilAsync(m => m.TryGetProperty("error", out _));

        Assert.Equal(77UL, error.GetProperty("id").GetUInt64());
        Assert.Equal(ErrorCodes.InvalidText, error.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Contains(field, error.GetProperty("error").GetProperty("message").GetString());
        Assert.True((await TestServer.CallAsync(sender, 78, "ping")).TryGetProperty("result", out _));
        await fixture.AssertUnaffectedAsync();
        await sender.DisposeAsync();
    }

    private static readonly (string Field, string Template)[] ConnectCommands =
    [
        ("params.attrs.room", """{"id":77,"method":"connect","params":{"attrs":{"room":"BAD"}}}"""),
        ("params.token", """{"id":77,"method":"connect","params":{"token":"BAD"}}"""),
        ("field name in \"params.since\"", """{"id":77,"method":"connect","params":{"since":{"BAD":{"offset":1,"epoch":"e"}}}}"""),
        ("params.name", """{"id":77,"method":"connect","params":{"name":"BAD"}}"""),
    ];

    public static TheoryData<int, string> ConnectCases()
    {
        var data = new TheoryData<int, string>();
        for (var i = 0; i < ConnectCommands.Length; i++)
        {
            foreach (var text in BadText.Escapes.Keys)
            {
                data.Add(i, text);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ConnectCases))]
    public async Task A_connect_with_a_lone_surrogate_gets_error_115_with_its_id_and_a_good_connect_then_works(int command, string text)
    {
        var (field, template) = ConnectCommands[command];
        var sender = await fixture.Server.ConnectNativeAsync(connect: false);

        await sender.SendAsync(BadText.Into(template, BadText.Escapes[text]), WebSocketMessageType.Text);
        var error = await sender.ReceiveJsonAsync();

        Assert.Equal(77UL, error.GetProperty("id").GetUInt64());
        Assert.Equal(ErrorCodes.InvalidText, error.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Contains(field, error.GetProperty("error").GetProperty("message").GetString());
        Assert.True((await TestServer.CallAsync(sender, 78, "connect")).TryGetProperty("result", out _));
        await fixture.AssertUnaffectedAsync();
        await sender.DisposeAsync();
    }

    private static readonly string[] PlainAttributes =
    [
        """{"room":"BAD"}""",
        """{"BAD":"x"}""",
        """{"room":"attacker","note":"BAD"}""",
    ];

    public static TheoryData<int, string> PlainCases()
    {
        var data = new TheoryData<int, string>();
        for (var i = 0; i < PlainAttributes.Length; i++)
        {
            foreach (var text in BadText.Escapes.Keys)
            {
                data.Add(i, text);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(PlainCases))]
    public async Task Plain_attributes_with_a_lone_surrogate_get_error_115_and_the_old_attributes_stay(int attributes, string text)
    {
        var sender = await fixture.Server.ConnectPlainAsync("""{"room":"attacker"}""");

        await sender.SendAsync(BadText.Into(PlainAttributes[attributes], BadText.Escapes[text]), WebSocketMessageType.Text);
        var error = await sender.ReceiveJsonAsync();
        await fixture.Server.PostApiAsync("publish", """{"where":{"room":"attacker"},"data":"still yours"}""");

        Assert.Equal(ErrorCodes.InvalidText, error.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal("still yours", await sender.ReceiveAsync());
        await fixture.AssertUnaffectedAsync();
        await sender.DisposeAsync();
    }

    public static TheoryData<bool, string> RawBytesCases()
    {
        var data = new TheoryData<bool, string>();
        foreach (var text in BadText.Bytes.Keys)
        {
            data.Add(true, text);
            data.Add(false, text);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(RawBytesCases))]
    public async Task A_websocket_text_frame_that_is_not_utf8_closes_only_its_sender_with_1007(bool native, string text)
    {
        var sender = native ? await fixture.Server.ConnectNativeAsync() : await fixture.Server.ConnectPlainAsync();
        var message = native ? """{"id":77,"method":"subscribe","params":{"channel":"BAD"}}""" : """{"room":"BAD"}""";

        await sender.SendAsync(BadText.Into(message, BadText.Bytes[text]), WebSocketMessageType.Text);

        Assert.Equal((int)WebSocketCloseStatus.InvalidPayloadData, await sender.WaitForCloseAsync());
        await fixture.AssertUnaffectedAsync();
    }

    public static TheoryData<string> GoodTexts() => [.. BadText.Good.Keys];

    [Theory]
    [MemberData(nameof(GoodTexts))]
    public async Task Text_close_to_the_bad_is_accepted_and_delivered_unchanged_everywhere(string text)
    {
        var data = BadText.Into("\"aBAD\"", BadText.Good[text]);
        var expected = System.Text.Json.JsonSerializer.Deserialize<string>(data)!;
        var (historyBefore, _) = await fixture.OffsetsAsync();

        var response = await fixture.PostRawAsync("publish", [.. "{\"channel\":\"watch\",\"user\":\"watcher\",\"data\":"u8, .. data, (byte)'}']);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        Assert.Equal(expected, (await AdversarialServer.NextPushAsync(fixture.NativeSubscriber)).GetProperty("data").GetString());
        Assert.Equal(expected, await fixture.PlainSubscriber.ReceiveAsync());
        Assert.Equal(expected, (await AdversarialServer.NextPushAsync(fixture.UserConnection)).GetProperty("data").GetString());
        var (historyAfter, _) = await fixture.OffsetsAsync();
        Assert.Equal(historyBefore + 1, historyAfter);
        await fixture.AssertUnaffectedAsync();
    }

    private async Task SendUdpAndWaitAsync(byte[] datagram)
    {
        var before = fixture.Server.Server.Udp.Received;
        await fixture.Server.SendUdpAsync(datagram);
        await Timeouts.Until(() => fixture.Server.Server.Udp.Received > before, "the datagram was received");
    }

    private static string Template((string Key, string Template)[] table, string key) => table.First(t => t.Key == key).Template;

    private static TheoryData<string, string> Cases(IEnumerable<string> keys, IEnumerable<string> texts)
    {
        var data = new TheoryData<string, string>();
        foreach (var key in keys)
        {
            foreach (var text in texts)
            {
                data.Add(key, text);
            }
        }
        return data;
    }
}

/// <summary>Signed datagrams (setting udp_secret) whose signature is right but whose text is not.</summary>
public sealed class SignedUdpInvalidTextTests(SignedUdpServer fixture) : IClassFixture<SignedUdpServer>
{
    private static readonly string[] Bodies =
    [
        """{"channel":"watch","user":"watcher","data":"BAD"}""",
        """{"channel":"watchBAD","data":1}""",
        """{"where":{"room":"BAD"},"data":1}""",
    ];

    public static TheoryData<int, string> Cases()
    {
        var data = new TheoryData<int, string>();
        for (var i = 0; i < Bodies.Length; i++)
        {
            foreach (var text in BadText.All.Keys)
            {
                data.Add(i, text);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Correctly_signed_datagrams_with_invalid_text_are_dropped_and_counted(int body, string text)
    {
        var dropped = fixture.Server.Server.Udp.Dropped;
        var before = fixture.Server.Server.Udp.Received;

        await fixture.Server.SendUdpAsync(Signed(BadText.Into(Bodies[body], BadText.All[text])));
        await Timeouts.Until(() => fixture.Server.Server.Udp.Received > before, "the datagram was received");

        Assert.Equal(dropped + 1, fixture.Server.Server.Udp.Dropped);
        await fixture.AssertUnaffectedAsync(good => fixture.Server.SendUdpAsync(Signed(Encoding.UTF8.GetBytes(good))));
    }

    private static byte[] Signed(byte[] body) =>
        [.. Encoding.ASCII.GetBytes("sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(SignedUdpServer.UdpSecret), body)) + "\n"), .. body];
}
