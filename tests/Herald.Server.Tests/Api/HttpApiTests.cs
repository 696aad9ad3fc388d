using System.Net;
using Herald.Protocol;
using Herald.Server.Api;
using Herald.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Herald.Server.Tests.Api;

public sealed class HttpApiTests
{
    [Fact]
    public async Task Health_answers_200_once_ready()
    {
        await using var server = await TestServer.StartAsync();

        var response = await server.Http.GetAsync("health").DefaultTimeout();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", (await TestServer.JsonAsync(response)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task With_a_key_configured_every_request_needs_it()
    {
        await using var server = await TestServer.StartAsync(o => o with { ApiKeys = ["k-one", "k-two"] });
        const string body = """{"where":{},"data":1}""";

        var missing = await server.PostApiAsync("publish", body);
        var wrong = await server.PostApiAsync("publish", body, apiKey: "nope");
        var first = await server.PostApiAsync("publish", body, apiKey: "k-one");
        var second = await server.PostApiAsync("publish", body, apiKey: "k-two");
        using var viaAuthorization = new HttpRequestMessage(HttpMethod.Post, "api/publish") { Content = new StringContent(body) };
        viaAuthorization.Headers.TryAddWithoutValidation("Authorization", "apikey k-one");
        var authorization = await server.Http.SendAsync(viaAuthorization).DefaultTimeout();

        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal(ErrorCodes.Unauthorized, (await TestServer.JsonAsync(missing)).GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(HttpStatusCode.OK, authorization.StatusCode);
    }

    [Fact]
    public async Task Unknown_methods_get_404_and_other_verbs_405()
    {
        await using var server = await TestServer.StartAsync();

        var unknown = await server.PostApiAsync("nope", "{}");
        var get = await server.Http.GetAsync("api/publish").DefaultTimeout();

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(ErrorCodes.UnknownMethod, (await TestServer.JsonAsync(unknown)).GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("10.1.2.3", false)]
    [InlineData("192.168.1.20", false)]
    public void Without_keys_only_loopback_callers_are_allowed(string remote, bool allowed)
    {
        var check = new ApiKeyCheck([]);
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(remote);

        Assert.Equal(allowed, check.IsAllowed(context, out var refusal));
        Assert.Equal(allowed, refusal.Length == 0);
    }
}
