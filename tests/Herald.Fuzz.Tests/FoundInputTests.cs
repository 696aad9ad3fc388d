using System.Text;
using System.Text.Json;
using Herald.Core.Attributes;
using Herald.Core.Auth;
using Herald.Core.Routing;
using Herald.Fuzz.Targets;
using Herald.Protocol;
using Herald.Server;
using Herald.Server.Ingress;

namespace Herald.Fuzz.Tests;

/// <summary>
/// What fuzzing found, one sentence each (the inputs are also in fuzz/corpus/*/found-*). Each states the promise the
/// input broke: bad input from the network is refused with an error (and the command's id when it had one), never
/// throws, never logs a server fault, and never reaches another client in a form a conforming client rejects.
/// </summary>
public sealed class FoundInputTests
{
    [Theory]
    [InlineData("{\"channel\":\"\\ud800\",\"data\":1}")]
    [InlineData("{\"channel\":\"news\",\"users\":[\"\\udc00\"],\"data\":1}")]
    [InlineData("{\"where\":{\"k\\ud800\":\"1\"},\"data\":1}")]
    [InlineData("{\"chan\\ud800nel\":\"news\",\"data\":1}")]
    public void A_publish_body_with_a_lone_surrogate_is_refused_not_thrown(string body)
    {
        Assert.False(PublishRequestParser.TryParse(Encoding.UTF8.GetBytes(body), out _, out _, out var error));
        Assert.NotEmpty(error);
    }

    [Theory]
    [InlineData("{\"channel\":\"new\x90\",\"data\":[]}")]
    [InlineData("{\"where\":{\"school_id\":\"\xff\"},\"data\":1}")]
    [InlineData("{\"user\":\"4\xc0\",\"data\":1}")]
    public void A_publish_body_with_invalid_UTF8_in_a_name_is_refused_not_thrown(string latin1Body)
    {
        Assert.False(PublishRequestParser.TryParse(Encoding.Latin1.GetBytes(latin1Body), out _, out _, out var error));
        Assert.NotEmpty(error);
    }

    [Theory]
    [InlineData("found-invalid-utf8-data")]
    [InlineData("found-lone-surrogate-data")]
    public void Publication_data_that_is_not_valid_text_never_reaches_a_subscriber(string corpusFile)
    {
        using var harness = new PublishBodyTarget();
        harness.Run(FuzzCorpus.Read("publish", corpusFile));
    }

    [Theory]
    [InlineData("{\"k\":\"\\ud800\"}")]
    [InlineData("{\"k\\udc00\":\"1\"}")]
    public void Plain_attributes_with_a_lone_surrogate_are_refused_not_thrown(string json)
    {
        Assert.False(AttributeJson.TryParseAttributes(Encoding.UTF8.GetBytes(json), 32, out _, out _, out var error));
        Assert.NotEmpty(error);
    }

    [Theory]
    [InlineData(true, "{\"id\":7,\"method\":\"\\ud800\"}")]
    [InlineData(true, "{\"id\":7,\"method\":\"subscribe\",\"params\":{\"channel\":\"bd mam\\udc00e\"}}")]
    [InlineData(true, "{\"id\":7,\"method\":\"subscribe\",\"params\":{\"chan\\udc00nel\":\"news\"}}")]
    [InlineData(false, "{\"id\":7,\"method\":\"connect\",\"params\":{\"si\\udc00nce\":{\"o\":{\"offset\":2,\"epoch\":\"e\"}}}}")]
    [InlineData(false, "{\"id\":7,\"method\":\"connect\",\"params\":{\"attrs\":{\"k\":\"\\ud800\"}}}")]
    [InlineData(true, "{\"id\":7,\"me\\ud800thod\":\"ping\"}")]
    public void A_command_with_a_lone_surrogate_gets_a_reply_with_its_id_and_logs_no_fault(bool connected, string command)
    {
        var log = new FaultLog();
        using var node = new FuzzNode(log);
        var (connection, frames) = node.OpenNative(connect: connected);
        frames.CheckAndClear("the client");
        node.Send(connection, Encoding.UTF8.GetBytes(command));
        log.ThrowIfAny();
        frames.CheckAndClear("the client");
        var reply = Assert.Single(frames.Texts);
        using var document = JsonDocument.Parse(reply);
        Assert.Equal(7UL, document.RootElement.GetProperty("id").GetUInt64());
    }

    [Fact]
    public void The_command_parser_never_throws_on_a_lone_surrogate_in_a_field_name()
    {
        var parsed = ClientCommandParser.TryParse("{\"i\\ud800d\":7,\"method\":\"ping\"}"u8.ToArray(), out _, out var error);
        Assert.True(parsed || !string.IsNullOrEmpty(error));
    }

    [Theory]
    [InlineData("{\"sub\":\"42\",\"exp\":253402300800}")]
    [InlineData("{\"sub\":\"42\",\"exp\":9007199254740993}")]
    [InlineData("{\"sub\":\"42\",\"exp\":\"4102444800\"}")]
    [InlineData("{}{}")]
    public async Task A_signed_token_whose_claims_cannot_be_read_is_refused(string payload)
    {
        var verifier = new JwtTokenVerifier(new TokenOptions { Secret = FuzzNode.Secret }, 32);
        var result = await verifier.VerifyAsync(FuzzNode.SignToken(Encoding.UTF8.GetBytes(payload)));
        Assert.False(result.IsValid);
        Assert.Equal(TokenFailure.Invalid, result.Failure);
    }

    [Theory]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.a.b.c.d")]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.a=.b.c.d")]
    public async Task A_token_with_a_part_that_is_not_base64url_is_refused_as_malformed(string token)
    {
        var verifier = new JwtTokenVerifier(new TokenOptions { Secret = FuzzNode.Secret }, 32);
        var result = await verifier.VerifyAsync(token);
        Assert.False(result.IsValid);
        Assert.Equal(TokenFailure.Invalid, result.Failure);
        Assert.StartsWith("malformed token", result.Error);
    }

    [Fact]
    public void A_client_with_a_malformed_five_part_token_is_refused_as_unauthorized_and_logs_no_fault()
    {
        var log = new FaultLog();
        using var node = new FuzzNode(log);
        var (_, nativeFrames) = node.OpenNative(token: "eyJhbGciOiJIUzI1NiJ9.a.b.c.d");
        var (_, plainFrames) = node.OpenPlain("eyJhbGciOiJIUzI1NiJ9.a.b.c.d");
        log.ThrowIfAny();
        nativeFrames.CheckAndClear("the native client");
        using var reply = JsonDocument.Parse(nativeFrames.Texts[0]);
        Assert.Equal(1UL, reply.RootElement.GetProperty("id").GetUInt64());
        Assert.Equal(ErrorCodes.Unauthorized, reply.RootElement.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(DisconnectCodes.Unauthorized, nativeFrames.CloseCode);
        Assert.Equal(DisconnectCodes.Unauthorized, plainFrames.CloseCode);
    }

    [Theory]
    [InlineData("{\"channel\":\"\\ud800\",\"data\":1}")]
    [InlineData("{\"channel\":\"new\xf3\",\"data\":1}")]
    public void A_datagram_the_parser_cannot_read_is_dropped_and_counted(string latin1Datagram)
    {
        var log = new FaultLog();
        using var node = new FuzzNode(log);
        using var ingress = new UdpIngress(node.Node, new HeraldServerOptions(), log.For<UdpIngress>());
        ingress.Handle(Encoding.Latin1.GetBytes(latin1Datagram));
        log.ThrowIfAny();
        Assert.Equal(1, ingress.Dropped);
    }
}
