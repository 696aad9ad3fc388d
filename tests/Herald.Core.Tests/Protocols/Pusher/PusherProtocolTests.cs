using System.Text;
using System.Text.Json;
using Herald.Core.Apps;
using Herald.Core.Connections;
using Herald.Core.Protocols.Pusher;
using Herald.Core.Routing;
using Herald.Protocol;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Core.Tests.Protocols.Pusher;

/// <summary>
/// The Pusher adapter in process: the start of a connection (refusals with Pusher's close codes, the socket id), its
/// frames (a bad one gets <c>pusher:error</c> and the connection lives on), the signatures, the close-code mapping and
/// the event frame shared by every recipient.
/// </summary>
public sealed class PusherProtocolTests
{
    private static readonly AppOptions App = new() { Id = "app", Key = "app-key", Secret = "app-secret" };

    private static (Connection Connection, RecordingTransport Transport) Start(Node node, PusherHandshake handshake)
    {
        var transport = new RecordingTransport();
        var connection = node.Open(transport, ConnectionKind.Pusher, "127.0.0.1:7");
        node.StartPusher(connection, handshake);
        return (connection, transport);
    }

    private static (Connection Connection, RecordingTransport Transport) Started(Node node, AppOptions? app = null) =>
        Start(node, new PusherHandshake(app ?? App, (app ?? App).Key, "7", OriginAllowed: true));

    private static JsonElement Frame(string text) => JsonDocument.Parse(text).RootElement;

    [Fact]
    public void A_started_connection_is_told_its_socket_id_and_activity_timeout()
    {
        using var node = NodeFixture.Create(new NodeOptions { PingInterval = TimeSpan.FromSeconds(25) });
        var (connection, transport) = Started(node);

        Assert.Matches(@"^\d+\.\d+$", connection.Id);
        var established = Frame(transport.Texts.Single());
        Assert.Equal("pusher:connection_established", established.GetProperty("event").GetString());
        var data = Frame(established.GetProperty("data").GetString()!);
        Assert.Equal(connection.Id, data.GetProperty("socket_id").GetString());
        Assert.Equal(25, data.GetProperty("activity_timeout").GetInt32());
    }

    [Theory]
    [InlineData(null, "7", true, PusherCloseCodes.UnknownApp)]
    [InlineData("disabled", "7", true, PusherCloseCodes.AppDisabled)]
    [InlineData("app", "4", true, PusherCloseCodes.UnsupportedProtocol)]
    [InlineData("app", "8", true, PusherCloseCodes.UnsupportedProtocol)]
    [InlineData("app", null, true, PusherCloseCodes.UnsupportedProtocol)]
    [InlineData("app", "7x", true, PusherCloseCodes.UnsupportedProtocol)]
    [InlineData("app", "7", false, PusherCloseCodes.Unauthorized)]
    public void A_refused_start_gets_pusher_error_and_the_close_with_Pusher_s_code(string? app, string? version, bool originAllowed, int code)
    {
        using var node = NodeFixture.Create();
        var options = app switch
        {
            null => null,
            "disabled" => App with { Enabled = false },
            _ => App,
        };
        var (_, transport) = Start(node, new PusherHandshake(options, "some-key", version, originAllowed));

        var error = Frame(transport.Texts.Single());
        Assert.Equal("pusher:error", error.GetProperty("event").GetString());
        Assert.Equal(code, error.GetProperty("data").GetProperty("code").GetInt32());
        Assert.Equal(code, transport.CloseCode);
    }

    [Fact]
    public void Max_connections_refuses_with_4004_and_a_closed_connection_gives_its_place_back()
    {
        using var node = NodeFixture.Create();
        var app = App with { MaxConnections = 1 };
        var (first, _) = Started(node, app);
        var (_, refused) = Started(node, app);
        Assert.Equal(PusherCloseCodes.OverQuota, refused.CloseCode);

        node.OnClosed(first, 1000, "bye");
        // A place given back leaves a count of 0 behind: the next connection takes it (this once spun forever).
        var (_, again) = Started(node, app);
        Assert.Null(again.CloseCode);
        var (_, full) = Started(node, app);
        Assert.Equal(PusherCloseCodes.OverQuota, full.CloseCode);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("\"pusher:ping\"")]
    [InlineData("""{"data":{}}""")]
    [InlineData("""{"event":7}""")]
    [InlineData("""{"event":""}""")]
    [InlineData("""{"event":"pusher:subscribe"}""")]
    [InlineData("""{"event":"pusher:subscribe","data":{"channel":7}}""")]
    [InlineData("""{"event":"pusher:subscribe","data":"not an object"}""")]
    [InlineData("""{"event":"pusher:unsubscribe","data":{}}""")]
    [InlineData("""{"event":"pusher:signin","data":{"auth":"x"}}""")]
    [InlineData("""{"event":"pusher:something"}""")]
    [InlineData("""{"event":"client-typing","channel":"private-x","data":{}}""")]
    public void A_bad_frame_gets_pusher_error_and_the_connection_lives_on(string frame)
    {
        using var node = NodeFixture.Create();
        var (connection, transport) = Started(node);

        node.Send(connection, frame);

        var error = Frame(transport.Texts[^1]);
        Assert.Equal("pusher:error", error.GetProperty("event").GetString());
        Assert.Equal(JsonValueKind.Null, error.GetProperty("data").GetProperty("code").ValueKind);
        Assert.False(string.IsNullOrEmpty(error.GetProperty("data").GetProperty("message").GetString()));
        Assert.Equal(ConnectionState.Ready, connection.State);
        Assert.Null(transport.CloseCode);
        node.Send(connection, """{"event":"pusher:ping","data":{}}""");
        Assert.Equal("""{"event":"pusher:pong","data":{}}""", transport.Texts[^1]);
    }

    [Theory]
    [InlineData("""{"event":"pusher:subscribe","data":{"channel":"a b"}}""", "a b", 400)]
    [InlineData("""{"event":"pusher:subscribe","data":{"channel":"x:y"}}""", "x:y", 400)]
    [InlineData("""{"event":"pusher:subscribe","data":{"channel":"private-x"}}""", "private-x", 401)]
    [InlineData("""{"event":"pusher:subscribe","data":{"channel":"private-x","auth":"app-key:00"}}""", "private-x", 401)]
    [InlineData("""{"event":"pusher:subscribe","data":{"channel":"presence-x","auth":"app-key:00"}}""", "presence-x", 401)]
    [InlineData("""{"event":"pusher:subscribe","data":{"channel":"#server-to-user-alice"}}""", "#server-to-user-alice", 403)]
    public void A_refused_subscription_gets_subscription_error_naming_the_channel(string frame, string channel, int status)
    {
        using var node = NodeFixture.Create();
        var (connection, transport) = Started(node);

        node.Send(connection, frame);

        var error = Frame(transport.Texts[^1]);
        Assert.Equal("pusher:subscription_error", error.GetProperty("event").GetString());
        Assert.Equal(channel, error.GetProperty("channel").GetString());
        Assert.Equal(status, error.GetProperty("data").GetProperty("status").GetInt32());
        Assert.Empty(connection.Channels);
        Assert.Equal(ConnectionState.Ready, connection.State);
    }

    [Fact]
    public void A_private_subscription_signed_with_the_app_secret_succeeds_under_the_app_s_scoped_name()
    {
        using var node = NodeFixture.Create();
        var (connection, transport) = Started(node);
        var auth = PusherSignature.Sign(App, PusherSignature.PrivateText(connection.Id, "private-room"));

        node.Send(connection, $$$"""{"event":"pusher:subscribe","data":{"channel":"private-room","auth":"{{{auth}}}"}}""");

        Assert.Equal("""{"event":"pusher_internal:subscription_succeeded","channel":"private-room","data":"{}"}""", transport.Texts[^1]);
        Assert.Equal([AppScope.Scope(App, "private-room")], connection.Channels);
        Assert.Equal("app private-room", connection.Channels[0]);
    }

    [Fact]
    public void The_private_channel_signature_matches_the_example_of_the_Pusher_docs()
    {
        var app = new AppOptions { Id = "1", Key = "278d425bdf160c739803", Secret = "7ad3773142a6692b25b8" };
        const string Expected = "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4";

        Assert.Equal(Expected, PusherSignature.Sign(app, PusherSignature.PrivateText("1234.1234", "private-foobar")));
        Assert.True(PusherSignature.IsValid(app, Expected, "1234.1234:private-foobar"));
        Assert.True(PusherSignature.IsValid(app, app.Key + ":" + Expected[(app.Key.Length + 1)..].ToUpperInvariant(), "1234.1234:private-foobar"));
        Assert.False(PusherSignature.IsValid(app, Expected, "1234.1235:private-foobar"));
        Assert.False(PusherSignature.IsValid(app, "other-key" + Expected[Expected.IndexOf(':')..], "1234.1234:private-foobar"));
        Assert.False(PusherSignature.IsValid(app, Expected[..^1], "1234.1234:private-foobar"));
        Assert.False(PusherSignature.IsValid(app, "", "1234.1234:private-foobar"));
        Assert.False(PusherSignature.IsValid(app with { Secret = "another" }, Expected, "1234.1234:private-foobar"));
    }

    [Fact]
    public void Presence_and_signin_signatures_cover_the_texts_Pusher_defines()
    {
        Assert.Equal("""1.2:presence-x:{"user_id":"7"}""", PusherSignature.PresenceText("1.2", "presence-x", """{"user_id":"7"}"""));
        Assert.Equal("""1.2::user::{"id":"7"}""", PusherSignature.SigninText("1.2", """{"id":"7"}"""));
    }

    [Fact]
    public void Herald_close_codes_become_Pusher_s_and_Pusher_s_own_go_as_they_are()
    {
        Assert.Equal(4200, PusherCloseCodes.FromHerald(DisconnectCodes.Shutdown));
        Assert.Equal(4201, PusherCloseCodes.FromHerald(DisconnectCodes.Stale));
        Assert.Equal(4100, PusherCloseCodes.FromHerald(DisconnectCodes.SlowConsumer));
        Assert.Equal(4009, PusherCloseCodes.FromHerald(DisconnectCodes.UserTerminated));
        Assert.Equal(4009, PusherCloseCodes.FromHerald(DisconnectCodes.TokenExpired));

        using var node = NodeFixture.Create();
        var (connection, transport) = Started(node);
        connection.Disconnect(DisconnectCodes.Shutdown, "server shutting down");
        Assert.Equal(4200, transport.CloseCode);
        Assert.Equal(4200, Frame(transport.Texts[^1]).GetProperty("data").GetProperty("code").GetInt32());
    }

    /// <summary>Lets <paramref name="span"/> pass as the node's timer does: a sweep every 500 ms.</summary>
    private static void Pass(Node node, ManualTime time, TimeSpan span)
    {
        for (var passed = TimeSpan.Zero; passed < span; passed += TimeSpan.FromMilliseconds(500))
        {
            time.Advance(TimeSpan.FromMilliseconds(500));
            node.Tick();
        }
    }

    [Fact]
    public void The_keep_alive_is_pusher_ping_and_a_silent_connection_is_closed_with_4201()
    {
        var time = new ManualTime();
        using var node = new Node(new NodeOptions { PingInterval = TimeSpan.FromSeconds(10), PongTimeout = TimeSpan.FromSeconds(5) }, NullLogger<Node>.Instance, time: time);
        var (connection, transport) = Started(node);

        Pass(node, time, TimeSpan.FromSeconds(10));
        Assert.Equal("""{"event":"pusher:ping","data":{}}""", transport.Texts[^1]);
        node.Send(connection, """{"event":"pusher:pong","data":{}}""");
        Pass(node, time, TimeSpan.FromSeconds(12));
        Assert.Null(transport.CloseCode);

        Pass(node, time, TimeSpan.FromSeconds(20));
        Assert.Equal(PusherCloseCodes.PongNotReceived, transport.CloseCode);
    }

    [Fact]
    public void With_user_authentication_required_a_connection_that_does_not_sign_in_is_closed_with_4009_after_the_grace()
    {
        var time = new ManualTime();
        using var node = new Node(new NodeOptions { PingInterval = TimeSpan.FromSeconds(10) }, NullLogger<Node>.Instance, time: time);
        var app = App with { UserAuthenticationRequired = true };
        var (silent, silentTransport) = Started(node, app);
        var (signed, signedTransport) = Started(node, app);
        var userData = """{"id":"alice"}""";
        var auth = PusherSignature.Sign(app, PusherSignature.SigninText(signed.Id, userData));
        node.Send(signed, JsonSerializer.Serialize(new { @event = "pusher:signin", data = new { auth, user_data = userData } }));
        Assert.Equal("pusher:signin_success", Frame(signedTransport.Texts[^1]).GetProperty("event").GetString());

        for (var i = 0; i < 5; i++)
        {
            Pass(node, time, TimeSpan.FromSeconds(8));
            node.Send(silent, """{"event":"pusher:pong","data":{}}""");
            node.Send(signed, """{"event":"pusher:pong","data":{}}""");
        }

        Assert.Equal(PusherCloseCodes.Unauthorized, silentTransport.CloseCode);
        Assert.Null(signedTransport.CloseCode);
        Assert.Equal(AppScope.ScopeUser(app, "alice"), signed.UserId);
    }

    [Fact]
    public void An_event_frame_is_encoded_once_per_channel_and_carries_data_as_a_string()
    {
        var json = new Publication(new PublishRequest(["app orders"], null, """{"id":7}"""u8.ToArray(), false) { Event = "created" });
        var text = new Publication(new PublishRequest(["orders"], null, "\"plain \\\"text\\\"\""u8.ToArray(), true));
        var protocol = PusherProtocol.Instance;

        var first = protocol.PushFrame(json, "app orders", 0, false);
        Assert.Same(first, protocol.PushFrame(json, "app orders", 0, false));
        Assert.Equal("""{"event":"created","channel":"orders","data":"{\"id\":7}"}""", Encoding.UTF8.GetString(first));
        Assert.Equal("""{"event":"message","channel":"orders","data":"plain \"text\""}""", Encoding.UTF8.GetString(protocol.PushFrame(text, "orders", 3, false)));
        Assert.Equal("""{"event":"created","data":"{\"id\":7}"}""", Encoding.UTF8.GetString(protocol.PushFrame(json, null, 0, false)));
    }
}
