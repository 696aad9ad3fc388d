using System.Text;
using Herald.Core.Routing;
using Herald.Protocol;

namespace Herald.Core.Tests.Routing;

public sealed class ParserTests
{
    [Theory]
    [InlineData("""{"data":1}""", ErrorCodes.NoTarget)]
    [InlineData("""{"where":null,"channel":null,"data":1}""", ErrorCodes.NoTarget)]
    [InlineData("""{"where":{"a":"1"}}""", ErrorCodes.BadRequest)]
    [InlineData("""{"where":[],"data":1}""", ErrorCodes.BadRequest)]
    [InlineData("""{"where":{"a":{"b":1}},"data":1}""", ErrorCodes.BadRequest)]
    [InlineData("""{"where":{"a":[{"b":1}]},"data":1}""", ErrorCodes.BadRequest)]
    [InlineData("""{"channel":5,"data":1}""", ErrorCodes.BadRequest)]
    [InlineData("""{"channels":"x","data":1}""", ErrorCodes.BadRequest)]
    [InlineData("""{"channels":[1],"data":1}""", ErrorCodes.BadRequest)]
    [InlineData("""{"user":"shop\u001falice","data":1}""", ErrorCodes.BadRequest)]
    [InlineData("""{"users":["a","b\u0000"],"data":1}""", ErrorCodes.BadRequest)]
    [InlineData("""{"channel":"a b","data":1}""", ErrorCodes.InvalidChannel)]
    [InlineData("""{"channel":"","data":1}""", ErrorCodes.InvalidChannel)]
    [InlineData("""{"where":{},"data":1""", ErrorCodes.BadRequest)]
    [InlineData("""[]""", ErrorCodes.BadRequest)]
    [InlineData("", ErrorCodes.BadRequest)]
    [InlineData("""{"where":{},"data":1}x""", ErrorCodes.BadRequest)]
    public void Bad_publishes_are_refused_with_a_code(string json, int code)
    {
        Assert.False(PublishRequestParser.TryParse(Encoding.UTF8.GetBytes(json), out _, out var actual, out var error));
        Assert.Equal(code, actual);
        Assert.NotEmpty(error);
    }

    [Theory]
    [InlineData("""{"channel":"c","data":1}""", null)]
    [InlineData("""{"channel":"c","event":null,"data":1}""", null)]
    [InlineData("""{"channel":"c","event":"order.shipped","data":1}""", "order.shipped")]
    [InlineData("""{"event":"App\\Events\\OrderShipped","where":{},"data":1}""", "App\\Events\\OrderShipped")]
    [InlineData("""{"user":"42","event":"client-x|y","data":1}""", "client-x|y")]
    [InlineData("""{"channel":"c","event":"注文","data":1}""", "注文")]
    [InlineData("""{"channel":"c","event":"\u00e9t\u00e9","data":1}""", "été")]
    public void An_event_name_is_read_when_given_and_null_when_not(string json, string? expected)
    {
        Assert.True(PublishRequestParser.TryParse(Encoding.UTF8.GetBytes(json), out var request, out _, out var error), error);
        Assert.Equal(expected, request.Event);
        Assert.Null(request.ExceptConnection); // internal: no field of the publish body sets it
    }

    public static TheoryData<string, string> BadEvents => new()
    {
        { """{"channel":"c","event":"","data":1}""", "empty" },
        { """{"channel":"c","event":5,"data":1}""", "must be a string" },
        { """{"channel":"c","event":["a"],"data":1}""", "must be a string" },
        { """{"channel":"c","event":{"a":1},"data":1}""", "must be a string" },
        { """{"channel":"c","event":true,"data":1}""", "must be a string" },
        { """{"channel":"c","event":"order shipped","data":1}""", "event name contains whitespace" },
        { """{"channel":"c","event":"a\tb","data":1}""", "event name contains whitespace" },
        { """{"channel":"c","event":"a\u200bb","data":1}""", "event name contains U+200B" },
        { """{"channel":"c","event":"a\u0000","data":1}""", "control character" },
        { $$"""{"channel":"c","event":"{{new string('e', 201)}}","data":1}""", "longer than 200" },
        { """{"channel":"c","event":"ok","socket_id":"1.2"}""", "no \"data\"" },
    };

    [Theory]
    [MemberData(nameof(BadEvents))]
    public void A_bad_event_name_is_refused_as_a_bad_request_saying_why(string json, string because)
    {
        Assert.False(PublishRequestParser.TryParse(Encoding.UTF8.GetBytes(json), out _, out var code, out var error));
        Assert.Equal(ErrorCodes.BadRequest, code);
        Assert.Contains(because, error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_event_name_of_200_characters_is_accepted()
    {
        var name = new string('e', 200);
        Assert.True(PublishRequestParser.TryParse(Encoding.UTF8.GetBytes($$"""{"channel":"c","event":"{{name}}","data":1}"""), out var request, out _, out var error), error);
        Assert.Equal(name, request.Event);
    }

    [Fact]
    public void Publish_parser_reads_every_target_and_keeps_data_raw()
    {
        Assert.True(PublishRequestParser.TryParse(
            """{"channel":"a","channels":["b","a"],"where":{"k":["1",2,true]},"data":{"x":[1,2]},"future_field":{"y":1}}"""u8,
            out var request, out _, out var error), error);

        Assert.Equal(["a", "b"], request.Channels);
        var clause = Assert.Single(request.Where!.Clauses);
        Assert.Equal(["1", "2", "true"], clause.Values);
        Assert.Equal("""{"x":[1,2]}""", Encoding.UTF8.GetString(request.Data));
        Assert.False(request.DataIsString);
    }

    [Fact]
    public void Command_parser_reads_id_method_and_params_in_any_order()
    {
        Assert.True(ClientCommandParser.TryParse(Encoding.UTF8.GetBytes("""{"params":{"channel":"x"},"method":"subscribe","id":42}"""), out var command, out _));

        Assert.Equal(42UL, command.Id);
        Assert.Same(ProtocolNames.Methods.Subscribe, command.Method);
        Assert.Equal("""{"channel":"x"}""", Encoding.UTF8.GetString(command.Params.Span));
    }
}
