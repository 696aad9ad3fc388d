using Herald.Protocol;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests;

/// <summary>
/// max_where_values bounds the values one key of a <c>where</c> may list: more is refused with error 108 before anything
/// is delivered, over HTTP and UDP alike, and the limit itself is served.
/// </summary>
public sealed class WhereLimitTests
{
    private static string Values(int count) => string.Join(",", Enumerable.Range(0, count).Select(i => $"\"{i}\""));

    [Fact]
    public async Task A_where_over_the_limit_is_refused_with_108_and_one_at_the_limit_is_delivered()
    {
        await using var server = await TestServer.StartAsync(o => o with { Node = o.Node with { MaxWhereValues = 500 } });
        var target = await server.ConnectPlainAsync("""{"g":"499"}""");

        var tooMany = await server.PostApiAsync("publish", $$"""{"where":{"g":[{{Values(501)}}]},"data":"too many"}""");
        var countTooMany = await server.PostApiAsync("count", $$"""{"where":{"g":[{{Values(501)}}]} }""");
        var dropsBefore = server.Server.Udp.Dropped;
        await server.SendUdpAndWaitAsync($$"""{"where":{"g":[{{Values(501)}}]},"data":"too many by udp"}""");
        var atLimit = await server.PostApiAsync("publish", $$"""{"where":{"g":[{{Values(500)}}]},"data":"at the limit"}""");

        Assert.Equal(400, (int)tooMany.StatusCode);
        var error = (await TestServer.JsonAsync(tooMany)).GetProperty("error");
        Assert.Equal(ErrorCodes.LimitExceeded, error.GetProperty("code").GetInt32());
        Assert.Contains("max_where_values", error.GetProperty("message").GetString());
        Assert.Equal(400, (int)countTooMany.StatusCode);
        Assert.Equal(ErrorCodes.LimitExceeded, (await TestServer.JsonAsync(countTooMany)).GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(dropsBefore + 1, server.Server.Udp.Dropped);
        Assert.Equal(200, (int)atLimit.StatusCode);
        Assert.Equal(1, (await TestServer.JsonAsync(atLimit)).GetProperty("recipients").GetInt32());
        Assert.Equal("at the limit", await target.ReceiveAsync()); // nothing refused reached it first
    }

    [Fact]
    public async Task The_default_limit_is_1000_values()
    {
        await using var server = await TestServer.StartAsync();

        var over = await server.PostApiAsync("publish", $$"""{"where":{"g":[{{Values(1001)}}]},"data":1}""");
        var at = await server.PostApiAsync("publish", $$"""{"where":{"g":[{{Values(1000)}}]},"data":1}""");

        Assert.Equal(400, (int)over.StatusCode);
        Assert.Equal(200, (int)at.StatusCode);
    }
}
