using System.Net;
using Herald.Protocol;
using Herald.Server.Tests.Infrastructure;
using Herald.Server.Tests.Transports;

namespace Herald.Server.Tests.Adversarial;

/// <summary>
/// No body makes an HTTP API method answer 500: wrong types, out-of-range numbers, odd shapes get 400 with the API's
/// error shape, naming the field, and change nothing.
/// </summary>
public sealed class HttpBadInputTests(AdversarialServer fixture) : IClassFixture<AdversarialServer>
{
    public static TheoryData<string, string, string> Cases() => new()
    {
        { "publish", """{"channel":5,"data":1}""", "channel" },
        { "publish", """{"channels":"watch","data":1}""", "channels" },
        { "publish", """{"channel":"watch","user":7,"data":1}""", "user" },
        { "publish", """{"users":[1],"data":1}""", "users" },
        { "publish", """{"where":[],"data":1}""", "where" },
        { "publish", """{"where":{"room":{"a":1}},"data":1}""", "where" },
        { "publish", """{"where":{"room":"a","room":"b"},"data":1}""", "where" },
        { "publish", """{"channel":"watch","idempotency_key":"","data":1}""", "idempotency_key" },
        { "publish", """{"channel":"watch","user":"","data":1}""", "user" },
        { "publish", """{"channel":"watch"}""", "data" },
        { "publish", "[" + new string('[', 200) + "]", "JSON" },
        { "history", """{"channel":5}""", "channel" },
        { "history", """{"channel":"watch","limit":-1}""", "limit" },
        { "history", """{"channel":"watch","limit":1e400}""", "limit" },
        { "history", """{"channel":"watch","limit":2147483648}""", "limit" },
        { "history", """{"channel":"watch","since":"x"}""", "since" },
        { "history", """{"channel":"watch","since":{"offset":-1}}""", "since" },
        { "history", """{"channel":"watch","since":18446744073709551616}""", "since" },
        { "history", "[]", "object" },
        { "history", "null", "object" },
        { "history", "{", "JSON" },
        { "history_remove", """{}""", "channel" },
        { "inbox", """{"user":"watcher","since":"x"}""", "since" },
        { "inbox", """{"user":"watcher","limit":"x"}""", "limit" },
        { "inbox_ack", """{"user":"watcher"}""", "offset" },
        { "inbox_ack", """{"user":"watcher","offset":-1}""", "offset" },
        { "inbox_ack", """{"user":"watcher","offset":1.5}""", "offset" },
        { "inbox_delete", """{"user":"watcher","offset":"all"}""", "offset" },
        { "online", """{"users":"watcher"}""", "users" },
        { "online", """{"users":[1,2]}""", "users" },
        { "presence", """{"channel":"a b"}""", "channel" },
        { "presence", """{"channel":"watch","limit":-5}""", "limit" },
        { "presence_stats", """{"channel":""}""", "channel" },
        { "channels", """{"limit":"x"}""", "limit" },
        { "count", """{}""", "where" },
        { "count", """{"where":"x"}""", "where" },
        { "count", """{"where":{"room":[{"a":1}]}}""", "where" },
        { "disconnect", """{}""", "user" },
        { "disconnect", """{"user":"watcher","client":"x"}""", "client" },
        { "disconnect", """{"user":"nobody","code":1000}""", "code" },
        { "disconnect", """{"user":"nobody","code":"x"}""", "code" },
        { "subscribe", """{"user":"nobody"}""", "channel" },
        { "subscribe", """{"user":"nobody","channel":"a b"}""", "channel" },
        { "unsubscribe", """{"channel":"watch"}""", "user" },
        { "attributes", """{"user":"nobody"}""", "attrs" },
        { "attributes", """{"user":"nobody","attrs":[1]}""", "attributes" },
        { "attributes", """{"user":"nobody","attrs":{"a":{"b":1}}}""", "\"a\"" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_bodies_get_400_with_the_error_shape_naming_the_field(string method, string body, string field)
    {
        var response = await fixture.Server.PostApiAsync(method, body);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{method} {body}: {(int)response.StatusCode} {text}");
        var message = await AdversarialServer.AssertApiErrorAsync(response, HttpStatusCode.BadRequest, ErrorCode(text));
        Assert.Contains(field, message);
        await fixture.AssertUnaffectedAsync();
    }

    [Theory]
    [InlineData("%ED%A0%80")]     // an encoded surrogate
    [InlineData("%FF")]           // not UTF-8
    [InlineData("pub%00lish")]    // NUL
    [InlineData("%E2%80%8Bpublish")] // a zero-width space
    public async Task A_method_name_that_is_not_valid_text_gets_404_with_the_error_shape(string method)
    {
        await using var raw = await RawHttpConnection.OpenAsync(fixture.Server);

        await raw.SendAsync($"POST /api/{method} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}");
        var (head, body) = await raw.ReadResponseAsync();

        Assert.True(head.StartsWith("HTTP/1.1 404 ", StringComparison.Ordinal) || head.StartsWith("HTTP/1.1 400 ", StringComparison.Ordinal), head);
        if (head.StartsWith("HTTP/1.1 404 ", StringComparison.Ordinal))
        {
            Assert.Equal(ErrorCodes.UnknownMethod, ErrorCode(body));
        }
        await fixture.AssertUnaffectedAsync();
    }

    private static int ErrorCode(string text)
    {
        using var document = System.Text.Json.JsonDocument.Parse(text);
        var code = document.RootElement.GetProperty("error").GetProperty("code").GetInt32();
        Assert.NotEqual(ErrorCodes.Internal, code);
        return code;
    }
}
