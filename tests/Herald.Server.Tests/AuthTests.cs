using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using Herald.Core;
using Herald.Core.Auth;
using Herald.Protocol;
using Herald.Server.Api;
using Herald.Server.Ingress;
using Herald.Server.Tests.Infrastructure;
using Microsoft.IdentityModel.Tokens;

namespace Herald.Server.Tests;

/// <summary>Tokens, users, origins, UDP signing and API key scopes over real sockets.</summary>
public sealed class AuthTests
{
    private const string Secret = "server-test-secret-0123456789-abcdef";

    private static Func<HeraldServerOptions, HeraldServerOptions> WithSecret(Func<HeraldServerOptions, HeraldServerOptions>? more = null) =>
        o => (more ?? (x => x))(o with { Token = new TokenOptions { Secret = Secret } });

    private static string Token(string user, TimeSpan? ttl = null, Dictionary<string, string>? attrs = null, string[]? channels = null) =>
        TokenIssuer.Create(Secret, user, ttl ?? TimeSpan.FromHours(1), attrs, channels);

    [Fact]
    public async Task Rs256_tokens_are_verified_with_keys_from_a_jwks_endpoint_refetched_on_an_unknown_kid()
    {
        await using var jwks = await JwksServer.StartAsync();
        var first = jwks.AddKey("k1");
        await using var server = await TestServer.StartAsync(o => o with
        {
            Token = new TokenOptions { JwksUrl = jwks.Url, JwksMinimumRefetchInterval = TimeSpan.Zero },
        });

        var alice = await server.ConnectNativeAsync(connect: false);
        var ok = await TestServer.CallAsync(alice, 1, "connect", $$"""{"token":"{{JwksServer.Sign(first, SecurityAlgorithms.RsaSha256, "alice", TimeSpan.FromHours(1))}}"}""");
        var rotated = jwks.AddKey("k2");
        var bob = await server.ConnectNativeAsync(connect: false);
        var afterRotation = await TestServer.CallAsync(bob, 1, "connect", $$"""{"token":"{{JwksServer.Sign(rotated, SecurityAlgorithms.RsaSha256, "bob", TimeSpan.FromHours(1))}}"}""");
        var stranger = await server.ConnectNativeAsync(connect: false);
        var unknown = new RsaSecurityKey(RSA.Create(2048)) { KeyId = "k9" };
        var refused = await TestServer.CallAsync(stranger, 1, "connect", $$"""{"token":"{{JwksServer.Sign(unknown, SecurityAlgorithms.RsaSha256, "eve", TimeSpan.FromHours(1))}}"}""");

        Assert.True(ok.TryGetProperty("result", out _), ok.ToString());
        Assert.Equal("alice", ok.GetProperty("result").GetProperty("user").GetString());
        Assert.True(afterRotation.TryGetProperty("result", out _), afterRotation.ToString());
        Assert.Equal("bob", afterRotation.GetProperty("result").GetProperty("user").GetString());
        Assert.Equal(ErrorCodes.Unauthorized, refused.GetProperty("error").GetProperty("code").GetInt32());
        Assert.StartsWith("unknown kid \"k9\"", refused.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(DisconnectCodes.Unauthorized, await stranger.WaitForCloseAsync());
        Assert.True(jwks.Fetches >= 2, "the rotated key was fetched");
    }

    [Fact]
    public async Task Es256_tokens_are_verified_with_a_pem_public_key()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await using var server = await TestServer.StartAsync(o => o with { Token = new TokenOptions { PublicKeyPem = ec.ExportSubjectPublicKeyInfoPem() } });
        var client = await server.ConnectNativeAsync(connect: false);

        var reply = await TestServer.CallAsync(client, 1, "connect",
            $$"""{"token":"{{JwksServer.Sign(new ECDsaSecurityKey(ec), SecurityAlgorithms.EcdsaSha256, "42", TimeSpan.FromHours(1))}}"}""");

        Assert.Equal("42", reply.GetProperty("result").GetProperty("user").GetString());
    }

    [Fact]
    public async Task Plain_clients_pass_a_token_in_the_url_and_get_its_attributes()
    {
        await using var server = await TestServer.StartAsync(WithSecret(o => o with { Node = o.Node with { RequireToken = true } }));
        var token = Token("42", attrs: new() { ["school_id"] = "2" });
        var good = await WsClient.ConnectAsync(new Uri(server.WebSocketUri, "?token=" + token));
        var bad = await WsClient.ConnectAsync(new Uri(server.WebSocketUri, "?token=garbage"));
        var none = await WsClient.ConnectAsync(server.WebSocketUri);

        Assert.Equal(DisconnectCodes.Unauthorized, await bad.WaitForCloseAsync());
        Assert.Equal(DisconnectCodes.Unauthorized, await none.WaitForCloseAsync());
        await Timeouts.Until(() => server.Node.ConnectionCountOf("42") == 1, "the plain client is authenticated");
        await server.SendUdpAsync("""{"where":{"school_id":"2"},"data":"hello 42"}""");
        Assert.Equal("hello 42", await good.ReceiveAsync());
        Assert.DoesNotContain(server.Logs.Entries, e => e.Message.Contains(token, StringComparison.Ordinal) || e.Message.Contains(Secret, StringComparison.Ordinal));
        Assert.Contains(server.Logs.WithEventId(1011), e => e.Message.Contains("malformed token", StringComparison.Ordinal));
        await good.DisposeAsync();
        await bad.DisposeAsync();
        await none.DisposeAsync();
    }

    [Fact]
    public async Task Require_token_refuses_native_clients_without_one()
    {
        await using var server = await TestServer.StartAsync(WithSecret(o => o with { Node = o.Node with { RequireToken = true } }));
        var client = await server.ConnectNativeAsync(connect: false);

        var reply = await TestServer.CallAsync(client, 1, "connect");

        Assert.Equal(ErrorCodes.Unauthorized, reply.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(DisconnectCodes.Unauthorized, await client.WaitForCloseAsync());
    }

    [Fact]
    public async Task A_token_that_expires_during_the_connection_closes_it_with_4005_unless_refreshed()
    {
        await using var server = await TestServer.StartAsync(WithSecret());
        var expiring = await server.ConnectNativeAsync(connect: false);
        var refreshed = await server.ConnectNativeAsync(connect: false);
        await TestServer.CallAsync(expiring, 1, "connect", $$"""{"token":"{{Token("42", TimeSpan.FromSeconds(2))}}"}""");
        await TestServer.CallAsync(refreshed, 1, "connect", $$"""{"token":"{{Token("43", TimeSpan.FromSeconds(2))}}"}""");

        var refresh = await TestServer.CallAsync(refreshed, 2, "refresh", $$"""{"token":"{{Token("43", TimeSpan.FromHours(1))}}"}""");
        var push = await expiring.ReceiveJsonUntilAsync(m => m.TryGetProperty("push", out var p) && p.GetString() == "disconnect");

        Assert.True(refresh.GetProperty("result").GetProperty("expires_in").GetInt64() > 3000);
        Assert.Equal(DisconnectCodes.TokenExpired, push.GetProperty("code").GetInt32());
        Assert.True(push.GetProperty("reconnect").GetBoolean());
        Assert.Equal(DisconnectCodes.TokenExpired, await expiring.WaitForCloseAsync());
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.True((await TestServer.CallAsync(refreshed, 3, "ping")).TryGetProperty("result", out _));
    }

    [Fact]
    public async Task User_targets_over_udp_and_http_reach_every_device_of_the_user()
    {
        await using var server = await TestServer.StartAsync(WithSecret());
        var phone = await server.ConnectNativeAsync(connect: false);
        await TestServer.CallAsync(phone, 1, "connect", $$"""{"token":"{{Token("42")}}"}""");
        var browser = await WsClient.ConnectAsync(new Uri(server.WebSocketUri, "?token=" + Token("42")));
        var other = await WsClient.ConnectAsync(new Uri(server.WebSocketUri, "?token=" + Token("43")));
        await Timeouts.Until(() => server.Node.ConnectionCountOf("42") == 2 && server.Node.ConnectionCountOf("43") == 1, "all authenticated");

        await server.SendUdpAsync("""{"user":"42","data":{"approve":1}}""");
        Assert.Equal("""{"push":"inbox","offset":1,"data":{"approve":1}}""", await phone.ReceiveAsync());
        Assert.Equal("""{"approve":1}""", await browser.ReceiveAsync());
        var response = await server.PostApiAsync("publish", """{"users":["42","43"],"data":{"approve":2}}""");

        var reply = await TestServer.JsonAsync(response);
        Assert.Equal(3, reply.GetProperty("recipients").GetInt32());
        Assert.Equal(2UL, reply.GetProperty("inbox").GetProperty("42").GetUInt64());
        Assert.Equal("""{"push":"inbox","offset":2,"data":{"approve":2}}""", await phone.ReceiveAsync());
        Assert.Equal("""{"approve":2}""", await browser.ReceiveAsync());
        Assert.Equal("""{"approve":2}""", await other.ReceiveAsync());
        await browser.DisposeAsync();
        await other.DisposeAsync();
    }

    [Fact]
    public async Task Browser_origins_outside_the_allowlist_are_refused()
    {
        await using var server = await TestServer.StartAsync(o => o with { AllowedOrigins = ["https://app.example.com", "https://*.corp.example"] });

        async Task<bool> Opens(string? origin)
        {
            try
            {
                var client = await WsClient.ConnectAsync(server.WebSocketUri, configure: o =>
                {
                    if (origin is not null)
                    {
                        o.SetRequestHeader("Origin", origin);
                    }
                });
                await client.DisposeAsync();
                return true;
            }
            catch (WebSocketException)
            {
                return false;
            }
        }

        Assert.True(await Opens("https://app.example.com"));
        Assert.True(await Opens("https://erp.corp.example"));
        Assert.True(await Opens(null));
        Assert.False(await Opens("https://evil.example.net"));
        Assert.False(await Opens("https://corp.example"));
    }

    [Fact]
    public async Task With_a_udp_secret_only_correctly_signed_datagrams_are_published()
    {
        await using var server = await TestServer.StartAsync(o => o with { UdpSecret = "udp-secret" });
        var client = await server.ConnectPlainAsync();

        await server.SendUdpAndWaitAsync("""{"where":{},"data":"unsigned"}""");
        await server.SendUdpAndWaitAsync(DatagramSignature.Sign("wrong-secret", """{"where":{},"data":"forged"}"""));
        await server.SendUdpAsync(DatagramSignature.Sign("udp-secret", """{"where":{},"data":"signed"}"""));

        Assert.Equal("signed", await client.ReceiveAsync());
        Assert.Equal(2, server.Server.Udp.Dropped);
    }

    [Fact]
    public async Task Datagrams_from_sources_outside_udp_allow_are_dropped()
    {
        await using var server = await TestServer.StartAsync(o => o with { UdpAllow = ["10.0.0.0/8"] });
        var client = await server.ConnectPlainAsync();

        await server.SendUdpAndWaitAsync("""{"where":{},"data":"from loopback"}""");

        Assert.Equal(1, server.Server.Udp.Dropped);
        Assert.Contains(server.Logs.WithEventId(2002), e => e.Message.Contains("udp_allow", StringComparison.Ordinal));
        Assert.True(client.NothingReceived);
    }

    [Fact]
    public async Task Publish_only_keys_cannot_call_other_methods()
    {
        await using var server = await TestServer.StartAsync(o => o with
        {
            ApiKeys = [new ApiKey("erp", "publish-key", ApiKeyScope.Publish), new ApiKey("ops", "full-key", ApiKeyScope.Full)],
        });

        var publish = await server.PostApiAsync("publish", """{"where":{},"data":1}""", apiKey: "publish-key");
        var forbidden = await server.PostApiAsync("info", "{}", apiKey: "publish-key");
        var info = await server.PostApiAsync("info", "{}", apiKey: "full-key");

        Assert.Equal(HttpStatusCode.OK, publish.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(ErrorCodes.PermissionDenied, (await TestServer.JsonAsync(forbidden)).GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(HttpStatusCode.OK, info.StatusCode);
        var body = await TestServer.JsonAsync(info);
        Assert.Equal(server.Node.Id, body.GetProperty("node").GetString());
        Assert.Equal(1, body.GetProperty("publishes").GetInt64());
    }

    [Fact]
    public async Task New_connections_per_second_from_one_address_are_limited()
    {
        await using var server = await TestServer.StartAsync(o => o with { MaxConnectionsPerIpPerSecond = 3 });
        var opened = new List<WsClient>();
        var refused = 0;

        for (var i = 0; i < 10; i++)
        {
            try
            {
                opened.Add(await WsClient.ConnectAsync(server.WebSocketUri));
            }
            catch (WebSocketException)
            {
                refused++;
            }
        }

        Assert.True(refused >= 1, "some connections were refused");
        Assert.True(opened.Count <= 9);
        Assert.Contains(server.Logs.WithEventId(2008), e => e.Message.Contains("too many new connections", StringComparison.Ordinal));
        foreach (var client in opened)
        {
            await client.DisposeAsync();
        }
    }
}
