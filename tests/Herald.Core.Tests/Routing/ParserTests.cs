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
