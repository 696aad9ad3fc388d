using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Herald.Core.Auth;
using Herald.Server.Tests.Infrastructure;
using Herald.Server.Tests.Process;
using Microsoft.IdentityModel.Tokens;

namespace Herald.Server.Tests.Adversarial;

/// <summary>
/// One real server for a class of adversarial cases (SQLite engine, tokens on), with bystanders that must stay
/// unaffected: a native subscriber of channel <see cref="Channel"/>, a plain client with that channel from its token,
/// and a native connection of user <see cref="User"/>. <see cref="AssertUnaffectedAsync"/> proves, after a bad input,
/// that nothing of it was stored or delivered and that everyone still gets the next good publish.
/// </summary>
public class AdversarialServer : IAsyncLifetime
{
    public const string Secret = "adversarial-test-secret-0123456789abcdef";
    public const string Channel = "watch";
    public const string User = "watcher";

    private readonly TempDirectory _data = new();
    private int _good;

    public TestServer Server { get; private set; } = null!;

    public WsClient NativeSubscriber { get; private set; } = null!;

    public WsClient PlainSubscriber { get; private set; } = null!;

    public WsClient UserConnection { get; private set; } = null!;

    protected virtual HeraldServerOptions Configure(HeraldServerOptions options) => options;

    public async Task InitializeAsync()
    {
        Server = await TestServer.StartAsync(o => Configure(o with
        {
            DataDirectory = _data.Path,
            Token = new TokenOptions { Secret = Secret },
        }));
        NativeSubscriber = await Server.ConnectNativeAsync();
        var subscribed = await TestServer.CallAsync(NativeSubscriber, 2, "subscribe", $$"""{"channel":"{{Channel}}"}""");
        Assert.True(subscribed.TryGetProperty("result", out _), subscribed.ToString());
        PlainSubscriber = await WsClient.ConnectAsync(new Uri(Server.WebSocketUri,
            "?token=" + TokenIssuer.Create(Secret, "plain-watcher", TimeSpan.FromHours(1), attrs: new Dictionary<string, string> { ["room"] = Channel }, channels: [Channel])));
        UserConnection = await Server.ConnectNativeAsync(connect: false);
        var connected = await TestServer.CallAsync(UserConnection, 1, "connect", $$"""{"token":"{{TokenIssuer.Create(Secret, User, TimeSpan.FromHours(1))}}"}""");
        Assert.True(connected.TryGetProperty("result", out _), connected.ToString());
        await AssertUnaffectedAsync(); // ready: everyone got a first good publish
    }

    public async Task DisposeAsync()
    {
        await PlainSubscriber.DisposeAsync();
        await Server.DisposeAsync();
        _data.Dispose();
    }

    /// <summary>
    /// Publishes a good message to every bystander (over HTTP, or the given way) and checks that it is the next thing
    /// each receives, that the channel's history and the user's inbox grew by exactly this one, and that the server
    /// logged no error.
    /// </summary>
    public async Task AssertUnaffectedAsync(Func<string, Task>? publishGood = null)
    {
        var (historyBefore, inboxBefore) = await OffsetsAsync();
        var good = $"good-{++_good}";
        var body = $$"""{"channel":"{{Channel}}","user":"{{User}}","data":"{{good}}"}""";
        if (publishGood is null)
        {
            var response = await Server.PostApiAsync("publish", body);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        else
        {
            await publishGood(body);
        }

        var publication = await NextPushAsync(NativeSubscriber);
        Assert.Equal("pub", publication.GetProperty("push").GetString());
        Assert.Equal(good, publication.GetProperty("data").GetString());
        Assert.Equal(good, await PlainSubscriber.ReceiveAsync());
        var entry = await NextPushAsync(UserConnection);
        Assert.Equal("inbox", entry.GetProperty("push").GetString());
        Assert.Equal(good, entry.GetProperty("data").GetString());
        var (historyAfter, inboxAfter) = await OffsetsAsync();
        Assert.Equal(historyBefore + 1, historyAfter);
        Assert.Equal(inboxBefore + 1, inboxAfter);
        Server.Logs.AssertNoUnexpectedErrors();
    }

    /// <summary>The offsets of the watched channel's history and the watched user's inbox.</summary>
    public async Task<(ulong History, ulong Inbox)> OffsetsAsync()
    {
        var history = await TestServer.JsonAsync(await Server.PostApiAsync("history", $$"""{"channel":"{{Channel}}","limit":0}"""));
        var inbox = await TestServer.JsonAsync(await Server.PostApiAsync("inbox", $$"""{"user":"{{User}}","limit":0}"""));
        return (history.GetProperty("offset").GetUInt64(), inbox.GetProperty("offset").GetUInt64());
    }

    /// <summary>The next publication or inbox entry (skipping keep-alive pings and presence pushes).</summary>
    public static async Task<JsonElement> NextPushAsync(WsClient client) =>
        await client.ReceiveJsonUntilAsync(m => !m.TryGetProperty("push", out var p) || p.GetString() is "pub" or "inbox");

    /// <summary>POSTs raw bytes to an API method.</summary>
    public async Task<HttpResponseMessage> PostRawAsync(string method, byte[] body)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return await Server.Http.PostAsync("api/" + method, content).DefaultTimeout();
    }

    /// <summary>An HS256 token over exactly <paramref name="payload"/> (any bytes), signed with <see cref="Secret"/>.</summary>
    public static string TokenWithPayload(byte[] payload, string header = """{"alg":"HS256","typ":"JWT"}""")
    {
        var signingInput = Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(header)) + "." + Base64UrlEncoder.Encode(payload);
        var key = HmacKey.For(Secret).Key;
        return signingInput + "." + Base64UrlEncoder.Encode(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(signingInput)));
    }

    /// <summary>The error object of an HTTP reply, asserting its status and code.</summary>
    public static async Task<string> AssertApiErrorAsync(HttpResponseMessage response, HttpStatusCode status, int code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {status}, got {response.StatusCode}: {text}");
        using var document = JsonDocument.Parse(text);
        var error = document.RootElement.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetInt32());
        var message = error.GetProperty("message").GetString();
        Assert.False(string.IsNullOrEmpty(message));
        return message!;
    }
}

/// <summary>The same, with signed UDP datagrams required (setting udp_secret).</summary>
public sealed class SignedUdpServer : AdversarialServer
{
    public const string UdpSecret = "udp-adversarial-secret";

    protected override HeraldServerOptions Configure(HeraldServerOptions options) => options with { UdpSecret = UdpSecret };
}
