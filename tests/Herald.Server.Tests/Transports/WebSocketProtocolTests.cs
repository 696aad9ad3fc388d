using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Herald.Core;
using Herald.Core.Auth;
using Herald.Protocol;
using Herald.Server.Tests.Infrastructure;
using static Herald.Server.Tests.Transports.RawHttpConnection;

namespace Herald.Server.Tests.Transports;

/// <summary>
/// Herald's own RFC 6455 server side, driven frame by frame from a raw socket: masking, reserved bits, fragmentation,
/// UTF-8, the close handshake, message size limits, frames cut anywhere by TCP, and the node's keep-alive pings for
/// plain clients. Every test runs on both ways in: the direct listener's bare socket and an upgrade Kestrel served.
/// </summary>
public abstract class WebSocketProtocolTests
{
    private const int ConnectionClosedEvent = 1002;
    private const int DirectUpgradeEvent = 2040;
    private const int OpContinuation = 0x0, OpText = 0x1, OpBinary = 0x2, OpClose = 0x8, OpPing = 0x9, OpPong = 0xA;

    [Theory]
    [InlineData("", null)]
    [InlineData("Sec-WebSocket-Protocol: herald.v1\r\n", "herald.v1")]
    [InlineData("Sec-WebSocket-Protocol: chat, herald.v1\r\n", "herald.v1")]
    [InlineData("Sec-WebSocket-Protocol: chat\r\n", null)]
    public async Task The_handshake_answers_herald_v1_only_to_a_client_that_asks_for_it(string protocols, string? answered)
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await RawHttpConnection.OpenAsync(server);

        await raw.SendAsync(UpgradeHead(extra: protocols + Padding));
        var head = await raw.ReadHeadAsync();
        await raw.SendAsync(ClientFrame(OpText, "ping"));
        var reply = await raw.ReadFrameAsync();

        Assert.StartsWith("HTTP/1.1 101 ", head);
        Assert.Equal(answered, head.Split("\r\n").Where(l => l.StartsWith("Sec-WebSocket-Protocol:", StringComparison.OrdinalIgnoreCase))
            .Select(l => l["Sec-WebSocket-Protocol:".Length..].Trim()).SingleOrDefault());
        // A plain client's text "ping" is answered "pong"; a native client's is not a command and gets an error.
        Assert.Equal(answered is null, reply == (OpText, "pong"));
        Assert.Equal(Direct ? 1 : 0, server.Logs.WithEventId(DirectUpgradeEvent).Count());
    }

    [Fact]
    public async Task A_plain_clients_token_in_the_url_authenticates_it()
    {
        const string secret = "server-test-secret-0123456789-abcdef";
        await using var server = await TestServer.StartAsync(o => o with
        {
            Token = new TokenOptions { Secret = secret },
            Node = o.Node with { RequireToken = true },
        });
        await using var raw = await RawHttpConnection.OpenAsync(server);
        var token = TokenIssuer.Create(secret, "42", TimeSpan.FromHours(1), new Dictionary<string, string> { ["g"] = "1" }, null);

        await raw.SendAsync(UpgradeHead("/?token=" + token, extra: Padding));

        Assert.StartsWith("HTTP/1.1 101 ", await raw.ReadHeadAsync());
        await Timeouts.Until(() => server.Node.ConnectionCountOf("42") == 1, "the plain client is authenticated as 42");
        await server.SendUdpAsync("""{"where":{"g":"1"},"data":"hi"}""");
        Assert.Equal((OpText, "hi"), await raw.ReadFrameAsync());
    }

    [Fact]
    public async Task A_refused_origin_gets_403_with_the_error_body_and_no_connection()
    {
        await using var server = await TestServer.StartAsync(o => o with { AllowedOrigins = ["https://app.example.com"] });
        await using var raw = await RawHttpConnection.OpenAsync(server);

        await raw.SendAsync(UpgradeHead(extra: "Origin: https://evil.example.com\r\n" + Padding));
        var (head, body) = await raw.ReadResponseAsync();

        Assert.StartsWith("HTTP/1.1 403 ", head);
        Assert.Contains($"\"code\":{ErrorCodes.PermissionDenied}", body);
        Assert.Contains("allowed_origins", body);
        Assert.Equal(0, server.Node.ConnectionCount);
        Assert.Equal(0, server.Server.CountedAddresses);
    }

    [Fact]
    public async Task An_unmasked_client_frame_is_closed_with_1002_and_the_connection_ends()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await OpenPlainAsync(server);

        await raw.SendAsync(ClientFrame(OpText, "ping"u8, masked: false));

        await AssertFailedAsync(server, raw, 1002);
    }

    [Theory]
    [InlineData(4)] // RSV1
    [InlineData(2)] // RSV2
    [InlineData(1)] // RSV3
    public async Task A_frame_with_a_reserved_bit_is_closed_with_1002(int rsv)
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await OpenPlainAsync(server);

        await raw.SendAsync(ClientFrame(OpText, "ping"u8, rsv: rsv));

        await AssertFailedAsync(server, raw, 1002);
    }

    [Theory]
    [InlineData(0x3, true, 0)] // a reserved data opcode
    [InlineData(0xB, true, 0)] // a reserved control opcode
    [InlineData(OpPing, false, 4)] // a fragmented control frame
    [InlineData(OpPing, true, 126)] // a control frame over 125 bytes
    public async Task A_bad_opcode_or_control_frame_is_closed_with_1002(int opcode, bool fin, int payloadLength)
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await OpenPlainAsync(server);

        await raw.SendAsync(ClientFrame(opcode, new byte[payloadLength], fin));

        await AssertFailedAsync(server, raw, 1002);
    }

    [Fact]
    public async Task A_64_bit_length_with_the_high_bit_set_is_closed_with_1002()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await OpenPlainAsync(server);

        await raw.SendAsync([0x81, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4]);

        await AssertFailedAsync(server, raw, 1002);
    }

    [Fact]
    public async Task A_fragmented_text_message_with_a_ping_between_fragments_is_reassembled()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await OpenPlainAsync(server);

        await raw.SendAsync(ClientFrame(OpText, "{\"g", fin: false)); // {"g":"1"} in three fragments
        await raw.SendAsync(ClientFrame(OpPing, [0x00, 0xFF, 0x10, (byte)'x']));
        var pong = await raw.ReadServerFrameAsync();
        await raw.SendAsync(ClientFrame(OpContinuation, "\":\"", fin: false));
        await raw.SendAsync(ClientFrame(OpContinuation, "1\"}"));

        Assert.Equal(OpPong, pong.Opcode);
        Assert.Equal([0x00, 0xFF, 0x10, (byte)'x'], pong.Payload);
        await AssertReceivesPublishAsync(server, raw, """{"g":"1"}""");
    }

    [Fact]
    public async Task A_character_split_between_fragments_is_valid_utf8()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await OpenPlainAsync(server);
        var message = Encoding.UTF8.GetBytes("""{"g":"é"}""");
        var cut = Array.IndexOf(message, (byte)0xC3) + 1; // between the two bytes of é

        await raw.SendAsync(ClientFrame(OpText, message.AsSpan(0, cut), fin: false));
        await raw.SendAsync(ClientFrame(OpContinuation, message.AsSpan(cut)));

        await AssertReceivesPublishAsync(server, raw, """{"g":"é"}""");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Invalid_utf8_in_a_text_message_is_closed_with_1007(bool fragmented)
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await OpenPlainAsync(server);
        byte[] message = [.. "{\"g\":\""u8.ToArray(), 0xC3, 0x28, .. "\"}"u8.ToArray()]; // 0xC3 0x28: a lead byte without its continuation

        if (fragmented)
        {
            await raw.SendAsync(ClientFrame(OpText, message.AsSpan(0, 7), fin: false));
            await raw.SendAsync(ClientFrame(OpContinuation, message.AsSpan(7)));
        }
        else
        {
            await raw.SendAsync(ClientFrame(OpText, message));
        }

        await AssertFailedAsync(server, raw, 1007);
    }

    [Fact]
    public async Task A_continuation_without_a_started_message_is_closed_with_1002()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await OpenPlainAsync(server);

        await raw.SendAsync(ClientFrame(OpContinuation, "ping"));

        await AssertFailedAsync(server, raw, 1002);
    }

    [Fact]
    public async Task A_new_message_while_a_fragmented_one_is_open_is_closed_with_1002()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await OpenPlainAsync(server);

        await raw.SendAsync(ClientFrame(OpText, "pi", fin: false));
        await raw.SendAsync(ClientFrame(OpText, "ping"));

        await AssertFailedAsync(server, raw, 1002);
    }

    [Fact]
    public async Task A_binary_message_gets_an_error_and_the_connection_stays_open()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await OpenPlainAsync(server);

        await raw.SendAsync(ClientFrame(OpBinary, [1, 2, 3]));
        var error = await raw.ReadServerFrameAsync();
        await raw.SendAsync(ClientFrame(OpText, """{"g":"1"}"""));

        Assert.Equal(OpText, error.Opcode);
        Assert.Contains("binary", error.Text);
        await AssertReceivesPublishAsync(server, raw, """{"g":"1"}""");
    }

    [Fact]
    public async Task A_message_of_exactly_max_message_size_is_accepted_in_one_frame_and_in_fragments()
    {
        await using var server = await TestServer.StartAsync(o => o with { Node = o.Node with { MaxMessageSize = 1024 } });
        await using var raw = await OpenPlainAsync(server);
        var whole = Encoding.UTF8.GetBytes("""{"g":"1"}""".PadRight(1024)); // a 16-bit length
        var fragmented = Encoding.UTF8.GetBytes("""{"g":"2"}""".PadRight(1024));

        await raw.SendAsync(ClientFrame(OpText, whole));
        await AssertReceivesPublishAsync(server, raw, """{"g":"1"}""");
        await raw.SendAsync(ClientFrame(OpText, fragmented.AsSpan(0, 500), fin: false));
        await raw.SendAsync(ClientFrame(OpContinuation, fragmented.AsSpan(500, 500), fin: false));
        await raw.SendAsync(ClientFrame(OpContinuation, fragmented.AsSpan(1000)));

        await AssertReceivesPublishAsync(server, raw, """{"g":"2"}""");
    }

    [Fact]
    public async Task A_frame_over_max_message_size_is_closed_with_4501()
    {
        await using var server = await TestServer.StartAsync(o => o with { Node = o.Node with { MaxMessageSize = 1024 } });
        await using var raw = await OpenPlainAsync(server);

        await raw.SendAsync(ClientFrame(OpText, Encoding.UTF8.GetBytes("""{"g":"1"}""".PadRight(1025))));

        await AssertClosedByNodeAsync(server, raw, DisconnectCodes.MessageTooLarge);
    }

    [Fact]
    public async Task A_fragmented_message_over_max_message_size_is_closed_with_4501()
    {
        await using var server = await TestServer.StartAsync(o => o with { Node = o.Node with { MaxMessageSize = 1024 } });
        await using var raw = await OpenPlainAsync(server);
        var fragment = Encoding.UTF8.GetBytes(new string(' ', 400));

        await raw.SendAsync(ClientFrame(OpText, fragment, fin: false));
        await raw.SendAsync(ClientFrame(OpPing, "p"u8));
        Assert.Equal((OpPong, "p"), await raw.ReadFrameAsync()); // the first 400 bytes are fine
        await raw.SendAsync(ClientFrame(OpContinuation, fragment, fin: false));
        await raw.SendAsync(ClientFrame(OpContinuation, fragment));

        await AssertClosedByNodeAsync(server, raw, DisconnectCodes.MessageTooLarge);
    }

    /// <summary>
    /// The announced payload is dropped unread, so the close comes at once; the client cannot answer it (its close
    /// frame would count as payload), so the node aborts the connection after close_timeout.
    /// </summary>
    [Fact]
    public async Task A_frame_announcing_more_than_max_message_size_is_closed_with_4501_before_its_payload_arrives()
    {
        await using var server = await TestServer.StartAsync(o => o with
        {
            Node = o.Node with { MaxMessageSize = 1024, CloseTimeout = TimeSpan.FromSeconds(1) },
        });
        await using var raw = await OpenPlainAsync(server);

        await raw.SendAsync([0x81, 0xFF, 0, 0, 0x01, 0, 0, 0, 0, 0, 1, 2, 3, 4, (byte)'{']); // 1 TiB announced, 1 byte sent
        var frame = await raw.ReadServerFrameAsync().DefaultTimeout(TimeSpan.FromSeconds(2));

        Assert.Equal(OpClose, frame.Opcode);
        Assert.Equal(DisconnectCodes.MessageTooLarge, frame.CloseCode);
        await Timeouts.Until(() => server.Node.ConnectionCount == 0, "the node aborted the connection", TimeSpan.FromSeconds(4));
        try
        {
            Assert.Equal(0, await raw.CountBytesToEndAsync());
        }
        catch (IOException)
        {
            // an abort may reach the client as a reset
        }
    }

    /// <summary>
    /// With one byte of the message already gathered, a continuation announcing 2^63 - 1 more bytes must still count
    /// as too large: the sum must not wrap around.
    /// </summary>
    [Fact]
    public async Task A_continuation_announcing_a_length_that_overflows_the_total_is_closed_with_4501()
    {
        await using var server = await TestServer.StartAsync(o => o with
        {
            Node = o.Node with { MaxMessageSize = 1024, CloseTimeout = TimeSpan.FromSeconds(1) },
        });
        await using var raw = await OpenPlainAsync(server);

        await raw.SendAsync(ClientFrame(OpText, "{", fin: false));
        await raw.SendAsync([0x80, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4]);
        var frame = await raw.ReadServerFrameAsync().DefaultTimeout(TimeSpan.FromSeconds(2));

        Assert.Equal(OpClose, frame.Opcode);
        Assert.Equal(DisconnectCodes.MessageTooLarge, frame.CloseCode);
    }

    [Theory]
    [InlineData(1000, "bye")]
    [InlineData(1001, "")]
    [InlineData(3000, "app")]
    [InlineData(4000, "reconnect later")]
    public async Task A_client_close_is_echoed_with_its_code_and_the_server_ends_the_connection(int code, string reason)
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await OpenPlainAsync(server);

        await raw.SendAsync(ClientCloseFrame(code, reason));
        var echo = await raw.ReadServerFrameAsync();

        Assert.Equal(OpClose, echo.Opcode);
        Assert.Equal(code, echo.CloseCode);
        Assert.Equal(0, await raw.CountBytesToEndAsync());
        await Timeouts.Until(() => server.Node.ConnectionCount == 0, "the node forgot the connection");
    }

    [Theory]
    [InlineData(999)]
    [InlineData(1004)]
    [InlineData(1005)]
    [InlineData(1006)]
    [InlineData(1015)]
    [InlineData(2999)]
    [InlineData(5000)]
    public async Task A_close_frame_with_an_invalid_code_is_answered_with_1002(int code)
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await OpenPlainAsync(server);

        await raw.SendAsync(ClientCloseFrame(code, "x"));

        await AssertFailedAsync(server, raw, 1002);
    }

    [Fact]
    public async Task A_close_frame_with_a_one_byte_payload_is_answered_with_1002()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await OpenPlainAsync(server);

        await raw.SendAsync(ClientFrame(OpClose, [0x03]));

        await AssertFailedAsync(server, raw, 1002);
    }

    [Fact]
    public async Task A_close_reason_that_is_not_utf8_is_answered_with_1007()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await OpenPlainAsync(server);

        await raw.SendAsync(ClientFrame(OpClose, [0x03, 0xE8, 0xC3, 0x28]));

        await AssertFailedAsync(server, raw, 1007);
    }

    [Fact]
    public async Task A_frame_split_over_many_segments_is_reassembled()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await OpenPlainAsync(server);
        var frame = ClientFrame(OpText, Encoding.UTF8.GetBytes("""{"g":"1"}""".PadRight(300))); // 8 header bytes: 16-bit length and mask

        for (var i = 0; i < 8; i++)
        {
            await SendAndPauseAsync(raw, frame.AsSpan(i, 1).ToArray());
        }
        for (var i = 8; i < frame.Length; i += 50)
        {
            await SendAndPauseAsync(raw, frame.AsSpan(i, Math.Min(50, frame.Length - i)).ToArray());
        }
        var ping = ClientFrame(OpPing, "split"u8);
        foreach (var b in ping)
        {
            await SendAndPauseAsync(raw, [b]);
        }

        Assert.Equal((OpPong, "split"), await raw.ReadFrameAsync());
        await AssertReceivesPublishAsync(server, raw, """{"g":"1"}""");
    }

    [Fact]
    public async Task Several_frames_in_one_segment_are_all_handled_in_order()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await OpenPlainAsync(server);

        await raw.SendAsync([
            .. ClientFrame(OpText, """{"g":"1"}"""),
            .. ClientFrame(OpPing, "p1"u8),
            .. ClientFrame(OpText, "{\"g\"", fin: false),
            .. ClientFrame(OpPing, "p2"u8),
            .. ClientFrame(OpContinuation, ":\"2\"}"),
            .. ClientFrame(OpText, "ping"),
        ]);

        Assert.Equal((OpPong, "p1"), await raw.ReadFrameAsync());
        Assert.Equal((OpPong, "p2"), await raw.ReadFrameAsync());
        Assert.Equal((OpText, "pong"), await raw.ReadFrameAsync());
        await AssertReceivesPublishAsync(server, raw, """{"g":"2"}""");
    }

    /// <summary>
    /// The server reads at most 4 KiB at a time. Complete frames fill the first read but for its last bytes, which
    /// are the start of the next frame's header: the rest of that header comes in the next read.
    /// </summary>
    [Theory]
    [InlineData(0)] // the first read ends between frames
    [InlineData(1)] // ... one byte into the next header
    [InlineData(3)] // ... three bytes into it (the length known, the mask not)
    [InlineData(8)] // ... after the whole header and two payload bytes
    public async Task A_frame_header_cut_by_the_end_of_a_full_read_is_completed_by_the_next_read(int headerBytesInFirstRead)
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await OpenPlainAsync(server);
        var pings = new List<byte[]>();
        var room = 4096 - headerBytesInFirstRead;
        while (room > 131)
        {
            pings.Add(ClientFrame(OpPing, Enumerable.Repeat((byte)('a' + pings.Count % 26), 125).ToArray()));
            room -= 131;
        }
        Assert.InRange(room, 6, 131);
        pings.Add(ClientFrame(OpPing, Enumerable.Repeat((byte)'z', room - 6).ToArray()));
        var last = ClientFrame(OpPing, "last"u8);
        byte[] first = [.. pings.SelectMany(p => p), .. last.AsSpan(0, headerBytesInFirstRead)];
        Assert.Equal(4096, first.Length);

        await raw.SendAsync(first);
        await Task.Delay(100);
        await raw.SendAsync(last.AsSpan(headerBytesInFirstRead).ToArray());

        foreach (var ping in pings)
        {
            var pong = await raw.ReadServerFrameAsync();
            Assert.Equal(OpPong, pong.Opcode);
            Assert.Equal(ping.Length - 6, pong.Payload.Length);
        }
        try
        {
            Assert.Equal((OpPong, "last"), await raw.ReadFrameAsync());
        }
        catch (EndOfStreamException)
        {
            await Timeouts.Until(() => server.Node.ConnectionCount == 0, "the node forgot the connection");
            Assert.Fail("the server dropped the connection: " + string.Join("; ", server.Logs.WithEventId(ConnectionClosedEvent).Select(e => e.Message)));
        }
        await raw.SendAsync(ClientFrame(OpText, "ping"));
        Assert.Equal((OpText, "pong"), await raw.ReadFrameAsync());
    }

    [Fact]
    public async Task A_200_KB_client_message_with_a_64_bit_length_is_received_whole()
    {
        await using var server = await TestServer.StartAsync(o => o with { Node = o.Node with { MaxMessageSize = 512 * 1024 } });
        await using var raw = await OpenPlainAsync(server);
        var json = new StringBuilder(new string(' ', 100_000)).Append('{');
        for (var i = 0; i < 10; i++)
        {
            json.Append($"\"k{i}\":\"").Append(Value(i)).Append("\",").Append(' ', 10_000);
        }
        json.Append("\"g\":\"1\"}");
        var message = Encoding.UTF8.GetBytes(json.ToString());
        Assert.True(message.Length > 200_000);

        await raw.SendAsync(ClientFrame(OpText, message));

        await AssertReceivesPublishAsync(server, raw, $$"""{"g":"1","k0":"{{Value(0)}}","k9":"{{Value(9)}}"}""");

        static string Value(int i) => string.Concat(Enumerable.Range(0, 1000).Select(n => (char)('a' + (n * 7 + i) % 26)));
    }

    [Fact]
    public async Task Large_pushes_reach_a_plain_client_with_16_and_64_bit_lengths()
    {
        await using var server = await TestServer.StartAsync(o => o with { Node = o.Node with { MaxMessageSize = 512 * 1024 } });
        await using var raw = await OpenPlainAsync(server);
        await SetAttributesAsync(raw, """{"g":"1"}""");
        var medium = string.Concat(Enumerable.Range(0, 1000).Select(n => (char)('a' + n % 26)));
        var large = string.Concat(Enumerable.Range(0, 100_000).Select(n => (char)('A' + n % 26)));

        var first = await server.PostApiAsync("publish", $$"""{"where":{"g":"1"},"data":"{{medium}}"}""");
        var second = await server.PostApiAsync("publish", $$"""{"where":{"g":"1"},"data":"{{large}}"}""");
        var mediumFrame = await raw.ReadServerFrameAsync();
        var largeFrame = await raw.ReadServerFrameAsync();

        Assert.True(first.IsSuccessStatusCode, await first.Content.ReadAsStringAsync());
        Assert.True(second.IsSuccessStatusCode, await second.Content.ReadAsStringAsync());
        Assert.Equal((true, OpText, 126, medium), (mediumFrame.Fin, mediumFrame.Opcode, mediumFrame.LengthField, mediumFrame.Text));
        Assert.Equal((true, OpText, 127, large), (largeFrame.Fin, largeFrame.Opcode, largeFrame.LengthField, largeFrame.Text));
    }

    /// <summary>WebSockets upgraded by the direct listener, on the bare socket.</summary>
    public sealed class OnTheDirectPath : WebSocketProtocolTests
    {
        protected override bool Direct => true;
    }

    /// <summary>WebSockets whose head goes to Kestrel (over 8 KiB), upgraded by it and run on the stream it hands out.</summary>
    public sealed class OnKestrelsPath : WebSocketProtocolTests
    {
        protected override bool Direct => false;
    }

    /// <summary>Whether this run's WebSockets are upgraded by the direct listener (else by Kestrel).</summary>
    protected abstract bool Direct { get; }

    /// <summary>A server for the node's keep-alive sweep (ping interval 1 s, pong timeout 1 s unless a test says otherwise).</summary>
    private static Task<TestServer> StartWithKeepAliveAsync(double pongTimeoutSeconds = 1) => TestServer.StartAsync(o => o with
    {
        Node = o.Node with { PingInterval = TimeSpan.FromSeconds(1), PongTimeout = TimeSpan.FromSeconds(pongTimeoutSeconds) },
    });

    [Fact]
    public async Task A_plain_client_gets_its_first_ping_after_half_to_all_of_the_interval()
    {
        await using var server = await StartWithKeepAliveAsync();
        await using var raw = await OpenPlainAsync(server);
        var clock = Stopwatch.StartNew();

        var ping = await raw.ReadServerFrameAsync();

        Assert.Equal(OpPing, ping.Opcode);
        Assert.Empty(ping.Payload);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.4), TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task A_plain_client_that_answers_pings_stays_connected()
    {
        // Stale after 3 s of silence: twice that without pongs would close it; the slack absorbs a busy CI machine.
        await using var server = await StartWithKeepAliveAsync(pongTimeoutSeconds: 2);
        await using var raw = await OpenPlainAsync(server);
        await SetAttributesAsync(raw, """{"g":"1"}""");
        var clock = Stopwatch.StartNew();
        var pings = 0;

        while (clock.Elapsed < TimeSpan.FromSeconds(6.5))
        {
            var frame = await raw.ReadServerFrameAsync();
            Assert.Equal(OpPing, frame.Opcode);
            pings++;
            await raw.SendAsync(ClientFrame(OpPong, frame.Payload));
        }
        await server.SendUdpAsync("""{"where":{"g":"1"},"data":"still here"}""");

        Assert.InRange(pings, 4, 12);
        Assert.Equal("still here", await ReadTextAnsweringPingsAsync(raw));
        Assert.Equal(1, server.Node.ConnectionCount);
    }

    [Fact]
    public async Task A_plain_client_that_never_answers_is_closed_with_4001()
    {
        await using var server = await StartWithKeepAliveAsync();
        await using var raw = await OpenPlainAsync(server);
        var clock = Stopwatch.StartNew();
        var pings = 0;

        ServerFrame frame;
        // Bounded: a server that keeps pinging and never closes fails here in seconds, not at the CI time limit.
        while ((frame = await raw.ReadServerFrameAsync()).Opcode == OpPing && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            pings++;
        }

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.9), TimeSpan.FromSeconds(5));
        Assert.InRange(pings, 1, 3);
        Assert.Equal(OpClose, frame.Opcode);
        Assert.Equal(DisconnectCodes.Stale, frame.CloseCode);
        Assert.Equal("no pong in time", frame.CloseReason);
        await raw.SendAsync(ClientCloseFrame(DisconnectCodes.Stale));
        Assert.Equal(0, await raw.CountBytesToEndAsync());
        await Timeouts.Until(() => server.Node.ConnectionCount == 0, "the node forgot the connection");
    }

    private static async Task<string> ReadTextAnsweringPingsAsync(RawHttpConnection raw)
    {
        while (true)
        {
            var frame = await raw.ReadServerFrameAsync();
            if (frame.Opcode != OpPing)
            {
                Assert.Equal(OpText, frame.Opcode);
                return frame.Text;
            }
            await raw.SendAsync(ClientFrame(OpPong, frame.Payload));
        }
    }

    /// <summary>Padding that sends an upgrade past the direct listener to Kestrel (its head is over 8 KiB).</summary>
    private static readonly string KestrelPadding = "X-Padding: " + new string('p', 9000) + "\r\n";

    /// <summary>What this run adds to an upgrade head to choose its way in.</summary>
    private string Padding => Direct ? "" : KestrelPadding;

    /// <summary>
    /// A raw connection upgraded as a plain client (no subprotocol) on this run's way in, checked by the direct
    /// listener's log event: one more on the direct path, none on Kestrel's.
    /// </summary>
    private async Task<RawHttpConnection> OpenPlainAsync(TestServer server)
    {
        var raw = await RawHttpConnection.OpenAsync(server);
        try
        {
            var before = server.Logs.WithEventId(DirectUpgradeEvent).Count();
            await raw.SendAsync(UpgradeHead(extra: Padding));
            Assert.StartsWith("HTTP/1.1 101 ", await raw.ReadHeadAsync());
            if (Direct)
            {
                // Logged just after the 101 went out: it may come a moment after the client read it.
                await Timeouts.Until(() => server.Logs.WithEventId(DirectUpgradeEvent).Count() == before + 1, "the direct listener upgraded it");
            }
            else
            {
                Assert.Empty(server.Logs.WithEventId(DirectUpgradeEvent));
            }
            return raw;
        }
        catch
        {
            await raw.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends attributes, then the text <c>ping</c>, and waits for <c>pong</c>: the attributes are applied before it.</summary>
    private static async Task SetAttributesAsync(RawHttpConnection raw, string attributes)
    {
        await raw.SendAsync(ClientFrame(OpText, attributes));
        await raw.SendAsync(ClientFrame(OpText, "ping"));
        Assert.Equal((OpText, "pong"), await raw.ReadFrameAsync());
    }

    /// <summary>
    /// Proves the client's attribute message took effect: after a text ping/pong round trip (so every message before it
    /// was handled), a UDP publish to <paramref name="where"/> reaches the client.
    /// </summary>
    private static async Task AssertReceivesPublishAsync(TestServer server, RawHttpConnection raw, string where)
    {
        await raw.SendAsync(ClientFrame(OpText, "ping"));
        Assert.Equal((OpText, "pong"), await raw.ReadFrameAsync());
        await server.SendUdpAsync($$"""{"where":{{where}},"data":"hi"}""");
        Assert.Equal((OpText, "hi"), await raw.ReadFrameAsync());
    }

    /// <summary>The server failed the connection: a close frame with <paramref name="code"/>, then TCP ends at once (no waiting for the client's close).</summary>
    private static async Task AssertFailedAsync(TestServer server, RawHttpConnection raw, int code)
    {
        var frame = await raw.ReadServerFrameAsync();
        Assert.Equal(OpClose, frame.Opcode);
        Assert.Equal(code, frame.CloseCode);
        Assert.Equal(0, await raw.CountBytesToEndAsync());
        await Timeouts.Until(() => server.Node.ConnectionCount == 0, "the node forgot the connection");
    }

    /// <summary>The node closed the connection with <paramref name="code"/>; once the client answers the close, TCP ends.</summary>
    private static async Task AssertClosedByNodeAsync(TestServer server, RawHttpConnection raw, int code)
    {
        var frame = await raw.ReadServerFrameAsync();
        Assert.Equal(OpClose, frame.Opcode);
        Assert.Equal(code, frame.CloseCode);
        await raw.SendAsync(ClientCloseFrame(code));
        Assert.Equal(0, await raw.CountBytesToEndAsync());
        await Timeouts.Until(() => server.Node.ConnectionCount == 0, "the node forgot the connection");
    }

    private static async Task SendAndPauseAsync(RawHttpConnection raw, byte[] bytes)
    {
        await raw.SendAsync(bytes);
        await Task.Delay(5);
    }
}
