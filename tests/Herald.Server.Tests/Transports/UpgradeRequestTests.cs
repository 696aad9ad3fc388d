using System.Buffers;
using System.Text;
using Herald.Server.Transports.WebSockets;

namespace Herald.Server.Tests.Transports;

/// <summary>The head parser accepts only clean upgrades; anything else it leaves to Kestrel.</summary>
public sealed class UpgradeRequestTests
{
    private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";
    private const string Upgrade = "GET /chat?token=a%20b HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + Key + "\r\nSec-WebSocket-Version: 13\r\n";

    private static HeadVerdict Inspect(string text, out UpgradeRequest? request) =>
        UpgradeRequest.Inspect(new ReadOnlySequence<byte>(Encoding.Latin1.GetBytes(text)), out request);

    [Fact]
    public void A_clean_upgrade_is_parsed()
    {
        var verdict = Inspect(Upgrade + "Origin: https://a.example\r\nSec-WebSocket-Protocol: x, herald.v1\r\n\r\n", out var request);

        Assert.Equal(HeadVerdict.Upgrade, verdict);
        Assert.Equal("/chat", request!.Path);
        Assert.Equal("?token=a%20b", request.Query);
        Assert.Equal("https://a.example", request.Origin);
        Assert.Equal("x, herald.v1", request.Protocols);
        Assert.Equal(new WebSocketAdmission.Admitted(Herald.Core.Connections.ConnectionKind.Native, Token: null), WebSocketAdmission.Choose(request.Protocols, request.Query));
        Assert.Equal(new WebSocketAdmission.Admitted(Herald.Core.Connections.ConnectionKind.Plain, Token: "a b"), WebSocketAdmission.Choose("x, herald", request.Query));
    }

    [Fact]
    public void The_head_length_excludes_what_follows()
    {
        var head = Upgrade + "\r\n";

        Assert.Equal(HeadVerdict.Upgrade, Inspect(head + "\x81\x84more", out var request));
        Assert.Equal(head.Length, request!.HeadLength);
    }

    [Theory]
    [InlineData("")]
    [InlineData("G")]
    [InlineData("GET /")]
    [InlineData("GET / HTTP/1.1\r\nHost: h\r\n")]
    public void An_incomplete_get_needs_more(string text) => Assert.Equal(HeadVerdict.NeedMore, Inspect(text, out _));

    [Fact]
    public void Connection_with_several_tokens_and_any_case_is_accepted() =>
        Assert.Equal(HeadVerdict.Upgrade, Inspect(Upgrade.Replace("Connection: Upgrade", "connection: keep-alive, upgrade").Replace("Upgrade: websocket", "UPGRADE: WebSocket") + "\r\n", out _));

    [Theory]
    [InlineData("POST /api/publish HTTP/1.1\r\n")]
    [InlineData("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")]
    [InlineData("GARBAGE")]
    [InlineData("GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n")]
    public void Anything_but_a_get_with_a_path_passes_on_at_once(string text) => Assert.Equal(HeadVerdict.PassOn, Inspect(text, out _));

    [Theory]
    [InlineData("GET /chat", "GET /api")] // the HTTP API
    [InlineData("GET /chat", "GET /API/x")]
    [InlineData("GET /chat", "GET /%61pi")] // encoded paths are Kestrel's to decode
    [InlineData("GET /chat", "GET /a/../api")]
    [InlineData("HTTP/1.1\r\n", "HTTP/1.0\r\n")]
    [InlineData("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8")]
    [InlineData("Upgrade: websocket", "Upgrade: h2c")]
    [InlineData("Connection: Upgrade", "Connection: keep-alive")]
    [InlineData("Host: h\r\n", "")] // no Host
    [InlineData("Host: h\r\n", "Host: h\r\nHost: i\r\n")] // two Hosts
    [InlineData("Host: h\r\n", "Host: h\r\nContent-Length: 3\r\n")] // a body
    [InlineData("Host: h\r\n", "Host: h\r\nTransfer-Encoding: chunked\r\n")]
    [InlineData("Host: h\r\n", "Host: h\r\n folded\r\n")] // obs-fold
    [InlineData("Host: h\r\n", "Host : h\r\n")] // whitespace before the colon
    [InlineData("Host: h\r\n", "Host: h\r\nNo colon here\r\n")]
    [InlineData("Host: h\r\n", "Host: h\r\nX-Bad: caf\u00e9\r\n")] // not ASCII
    [InlineData("Host: h\r\n", "Host: h\nX-Bare: lf\r\n")] // a bare LF
    [InlineData(Key, "not-a-key")]
    [InlineData(Key, Key + Key)]
    public void A_head_that_is_not_a_clean_upgrade_passes_on(string from, string to) =>
        Assert.Equal(HeadVerdict.PassOn, Inspect(Upgrade.Replace(from, to) + "\r\n", out _));

    [Fact]
    public void A_head_longer_than_8_KiB_passes_on_whether_complete_or_not()
    {
        var padding = "X-Padding: " + new string('p', UpgradeRequest.MaxHeadBytes) + "\r\n";

        Assert.Equal(HeadVerdict.PassOn, Inspect(Upgrade + padding + "\r\n", out _));
        Assert.Equal(HeadVerdict.PassOn, Inspect(Upgrade + padding, out _));
    }

    [Fact]
    public void A_head_split_over_many_segments_is_parsed()
    {
        var bytes = Encoding.ASCII.GetBytes(Upgrade + "\r\n");
        var first = new Segment(bytes.AsMemory(0, 1));
        var last = first;
        for (var i = 1; i < bytes.Length; i++)
        {
            last = last.Append(bytes.AsMemory(i, 1));
        }

        Assert.Equal(HeadVerdict.Upgrade, UpgradeRequest.Inspect(new ReadOnlySequence<byte>(first, 0, last, 1), out var request));
        Assert.Equal(bytes.Length, request!.HeadLength);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
