using System.Text;
using Herald.Core.Connections;
using Herald.Core.Engine;
using Herald.Core.Protocols.HeraldV1;
using Herald.Core.Sessions;
using Herald.Protocol;

namespace Herald.Core.Tests.Protocols;

/// <summary>The herald.v1 adapter: its frames become the session's typed requests, and the session's outcomes become its frames.</summary>
public sealed class HeraldV1ProtocolTests
{
    private static ReadOnlyMemory<byte> Params(string json) => Encoding.UTF8.GetBytes(json);

    [Fact]
    public void Subscribe_params_become_a_subscribe_request()
    {
        var request = HeraldV1Requests.Subscribe(Params("""{"channel":"news","token":"t.k.n","since":{"offset":7,"epoch":"e1"}}"""));

        Assert.Equal(new SubscribeRequest("news", "t.k.n", new StreamPosition(7, "e1"), null), request);
    }

    [Theory]
    [InlineData("""{"channel":"news","since":{"offset":-1}}""")]
    [InlineData("""{"channel":"news","since":{"epoch":"e1"}}""")]
    [InlineData("""{"channel":"news","since":{"offset":1,"epoch":2}}""")]
    [InlineData("""{"channel":"news","since":"7"}""")]
    public void A_subscribe_position_that_cannot_be_read_is_passed_on_as_its_error_for_the_session_to_refuse_in_turn(string parameters)
    {
        var request = HeraldV1Requests.Subscribe(Params(parameters));

        Assert.Equal("news", request.Channel);
        Assert.Null(request.Since);
        Assert.Equal(ErrorCodes.BadRequest, request.SinceError!.Value.Code);
        Assert.StartsWith("\"since\" must be {\"offset\"", request.SinceError.Value.Message);
    }

    [Fact]
    public void Connect_params_carry_token_attributes_and_a_position_per_channel()
    {
        var request = HeraldV1Requests.Connect(Params("""{"token":"t","attrs":{"school_id":2},"since":{"news":{"offset":3,"epoch":"e"},"all":{"offset":0}}}"""), maxAttributes: 16);

        Assert.Equal("t", request.Token);
        Assert.True(request.Attributes.TryGetValue("school_id", out var school) && school == "2");
        Assert.Null(request.AttributesError);
        Assert.Null(request.SinceError);
        Assert.Equal(new StreamPosition(3, "e"), request.Since!["news"]);
        Assert.Equal(new StreamPosition(0, ""), request.Since["all"]);
    }

    [Fact]
    public void Connect_params_that_cannot_be_read_are_passed_on_as_their_errors()
    {
        var request = HeraldV1Requests.Connect(Params("""{"attrs":[1],"since":[1]}"""), maxAttributes: 16);

        Assert.Equal(ErrorCodes.InvalidAttributes, request.AttributesError!.Value.Code);
        Assert.Equal(new CommandError(ErrorCodes.BadRequest, "connect's \"since\" must map channels to {\"offset\":N,\"epoch\":\"E\"}"), request.SinceError);
    }

    [Theory]
    [InlineData("""{"channel":"c","data":{"a":1}}""", """{"a":1}""", false)]
    [InlineData("""{"channel":"c","data":"text"}""", "\"text\"", true)]
    [InlineData("""{"channel":"c"}""", null, false)]
    public void Publish_params_carry_the_raw_data_and_whether_it_is_a_string(string parameters, string? data, bool isString)
    {
        var request = HeraldV1Requests.Publish(Params(parameters));

        Assert.Equal("c", request.Channel);
        Assert.Equal(data, request.Data is { } raw ? Encoding.UTF8.GetString(raw.Span) : null);
        Assert.Equal(isString, request.DataIsString);
    }

    [Theory]
    [InlineData("""{"offset":12}""", 12ul)]
    [InlineData("""{"offset":-1}""", null)]
    [InlineData("""{"offset":"12"}""", null)]
    [InlineData("""{}""", null)]
    public void An_inbox_ack_offset_is_a_whole_number_or_missing(string parameters, ulong? offset) =>
        Assert.Equal(offset, HeraldV1Requests.InboxAckOffset(Params(parameters)));

    [Fact]
    public void Presence_params_default_to_a_page_of_100()
    {
        Assert.Equal(new PresenceQuery("room", null, 100), HeraldV1Requests.Presence(Params("""{"channel":"room"}""")));
        Assert.Equal(new PresenceQuery("room", "c1", 5), HeraldV1Requests.Presence(Params("""{"channel":"room","cursor":"c1","limit":5}""")));
    }

    [Fact]
    public void A_subscribe_result_is_encoded_as_the_reply_with_the_command_id_and_not_at_all_for_a_notification()
    {
        using var node = NodeFixture.Create();
        var transport = new RecordingTransport();
        var connection = node.Open(transport, ConnectionKind.Native, "127.0.0.1:9");
        var stream = new StreamState(new StreamPosition(3, "e"), true, [new StoredPublication(3, """{"a":1}"""u8.ToArray(), DateTimeOffset.UnixEpoch)]);

        new HeraldV1Reply(connection, 7).Succeeded(new SubscribeResult("c", stream));
        new HeraldV1Reply(connection, 0).Succeeded(new SubscribeResult("c", stream));
        new HeraldV1Reply(connection, 8).Succeeded(new SubscribeResult("c", null));
        new HeraldV1Reply(connection, 0).Failed(new CommandError(ErrorCodes.InvalidChannel, "bad"));

        Assert.Equal(
        [
            """{"id":7,"result":{"offset":3,"epoch":"e","recovered":true,"publications":[{"offset":3,"data":{"a":1}}]}}""",
            """{"id":8,"result":{}}""",
            """{"error":{"code":107,"message":"bad"}}""",
        ], transport.Texts);
    }

    [Fact]
    public async Task A_subscribe_frame_runs_the_session_command_and_its_outcome_comes_back_as_the_reply()
    {
        using var node = NodeFixture.Create();
        var (connection, transport) = node.Native();
        var session = node.SessionFor(connection);

        await HeraldV1Protocol.Instance.OnTextFrameAsync(session, Encoding.UTF8.GetBytes("""{"id":2,"method":"subscribe","params":{"channel":"c"}}"""));
        await HeraldV1Protocol.Instance.OnTextFrameAsync(session, Encoding.UTF8.GetBytes("""{"id":3,"method":"subscribe","params":{"channel":"a b"}}"""));

        Assert.Equal(["c"], connection.Channels);
        Assert.Matches("""^\{"id":2,"result":\{"offset":0,"epoch":"[0-9a-f]+"\}\}$""", transport.Texts[^2]);
        Assert.StartsWith("""{"id":3,"error":{"code":107,""", transport.Texts[^1]);
    }

    [Fact]
    public void A_refused_frame_gets_its_error_with_the_id_read_from_it()
    {
        using var node = NodeFixture.Create();
        var (connection, transport) = node.Native();

        HeraldV1Protocol.Instance.Refuse(connection, """{"id":42,"method":"subscribe","params":{"channel":"""u8, new CommandError(ErrorCodes.Internal, "internal error"));

        Assert.Equal("""{"id":42,"error":{"code":100,"message":"internal error"}}""", transport.Texts[^1]);
    }
}
