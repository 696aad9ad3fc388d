using System.Net;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Demo;

/// <summary>GET /demo: the page Herald serves so a browser can try it from the same origin.</summary>
public sealed class DemoPageTests
{
    [Fact]
    public async Task Demo_is_an_html_page_with_a_plain_client_of_this_server()
    {
        await using var server = await TestServer.StartAsync();

        var response = await server.Http.GetAsync("demo").DefaultTimeout();
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.StartsWith("<!doctype html>", html, StringComparison.Ordinal);
        // The page opens its WebSocket to the server that served it, and shows how to publish to it.
        Assert.Contains("new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`)", html, StringComparison.Ordinal);
        Assert.Contains("/api/publish", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_root_names_the_demo_page()
    {
        await using var server = await TestServer.StartAsync();

        var text = await server.Http.GetStringAsync(new Uri("/", UriKind.Relative)).DefaultTimeout();

        Assert.Contains("GET /demo", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_is_a_page_not_a_websocket_endpoint_for_other_verbs()
    {
        await using var server = await TestServer.StartAsync();

        var post = await server.Http.PostAsync("demo", new StringContent("{}")).DefaultTimeout();

        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
    }
}
