using System.Security.Cryptography;
using System.Text;
using Herald.Core.Auth;
using Herald.Protocol;
using Herald.Server.Tests.Infrastructure;
using Microsoft.IdentityModel.Tokens;

namespace Herald.Server.Tests;

/// <summary>
/// Claims are read by type: a token whose time claims, <c>sub</c>, <c>channels</c>, <c>attrs</c> or <c>channel</c> are
/// not of the documented type is refused with an auth error, never accepted (in particular never without expiry).
/// </summary>
public sealed class TokenClaimTypeTests
{
    private const string Secret = "claim-type-test-secret-0123456789";

    /// <summary>Payload fragments (besides <c>"sub":"42"</c>) each of which must make the token refused, with the message's start.</summary>
    public static TheoryData<string, string> BadClaims => new()
    {
        { "\"exp\":\"4102444800\"", "bad claims: exp must be a number" },
        { "\"exp\":253402300800", "bad claims: exp must be a number" }, // the year 10000
        { "\"exp\":9007199254740992", "bad claims: exp must be a number" }, // 2^53
        { "\"exp\":1e400", "bad claims: exp must be a number" },
        { "\"exp\":-5", "bad claims: exp must be a number" },
        { "\"exp\":true", "bad claims: exp must be a number" },
        { "\"exp\":{\"at\":1}", "bad claims: exp must be a number" },
        { "\"nbf\":\"0\"", "bad claims: nbf must be a number" },
        { "\"iat\":[1]", "bad claims: iat must be a number" },
        { "\"iat\":1e300", "bad claims: iat must be a number" },
        { "\"channels\":\"news\"", "bad claims: channels must be an array of strings" },
        { "\"channels\":[1]", "bad claims: channels must be an array of strings" },
        { "\"attrs\":[\"a\"]", "bad claims: attrs" },
        { "\"attrs\":\"school=2\"", "bad claims: attrs" },
        { "\"channel\":5", "bad claims: channel must be a string" },
    };

    [Theory]
    [MemberData(nameof(BadClaims))]
    public async Task A_token_with_an_ill_typed_claim_is_refused_on_native_connect_with_the_command_id(string claims, string message)
    {
        await using var server = await TestServer.StartAsync(o => o with { Token = new TokenOptions { Secret = Secret } });
        var client = await server.ConnectNativeAsync(connect: false);

        var reply = await TestServer.CallAsync(client, 7, "connect", $$"""{"token":"{{Sign($$"""{"sub":"42",{{claims}}}""")}}"}""");

        Assert.Equal(7UL, reply.GetProperty("id").GetUInt64());
        Assert.Equal(ErrorCodes.Unauthorized, reply.GetProperty("error").GetProperty("code").GetInt32());
        Assert.StartsWith(message, reply.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(DisconnectCodes.Unauthorized, await client.WaitForCloseAsync());
        Assert.Equal(0, server.Node.ConnectionCountOf("42"));
    }

    [Theory]
    [InlineData("\"exp\":\"4102444800\"")]
    [InlineData("\"exp\":253402300800")]
    [InlineData("\"exp\":9007199254740992")]
    [InlineData("\"sub\":42")]
    public async Task A_plain_client_with_an_ill_typed_claim_is_closed_with_the_auth_code(string claims)
    {
        await using var server = await TestServer.StartAsync(o => o with { Token = new TokenOptions { Secret = Secret } });
        var payload = claims.StartsWith("\"sub\"", StringComparison.Ordinal) ? "{" + claims + "}" : $$"""{"sub":"42",{{claims}}}""";

        var client = await WsClient.ConnectAsync(new Uri(server.WebSocketUri, "?token=" + Sign(payload)));

        Assert.Equal(DisconnectCodes.Unauthorized, await client.WaitForCloseAsync());
        Assert.Equal(0, server.Node.ConnectionCountOf("42"));
        await client.DisposeAsync();
    }

    [Fact]
    public async Task Time_claims_up_to_the_last_second_of_9999_and_with_fractions_are_read()
    {
        await using var server = await TestServer.StartAsync(o => o with { Token = new TokenOptions { Secret = Secret } });
        var farFuture = await server.ConnectNativeAsync(connect: false);
        var fraction = await server.ConnectNativeAsync(connect: false);
        var expired = await server.ConnectNativeAsync(connect: false);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        var far = await TestServer.CallAsync(farFuture, 1, "connect", $$"""{"token":"{{Sign($$"""{"sub":"1","exp":253402300799,"iat":{{now}}}""")}}"}""");
        var fractional = await TestServer.CallAsync(fraction, 1, "connect", $$"""{"token":"{{Sign($$"""{"sub":"2","exp":{{now + 3600}}.5,"nbf":{{now - 60}}.25}""")}}"}""");
        var past = await TestServer.CallAsync(expired, 1, "connect", $$"""{"token":"{{Sign($$"""{"sub":"3","exp":{{now - 60}}.5}""")}}"}""");

        Assert.True(far.TryGetProperty("result", out var farResult), far.ToString());
        Assert.True(farResult.GetProperty("expires_in").GetInt64() > 200_000_000_000L, far.ToString());
        Assert.True(fractional.TryGetProperty("result", out var fractionResult), fractional.ToString());
        Assert.InRange(fractionResult.GetProperty("expires_in").GetInt64(), 3000, 3601);
        Assert.Equal(ErrorCodes.TokenExpired, past.GetProperty("error").GetProperty("code").GetInt32());
    }

    /// <summary>An HS256 JWT over exactly <paramref name="payload"/> (no library rewrites the claims).</summary>
    private static string Sign(string payload)
    {
        var head = Base64UrlEncoder.Encode("""{"alg":"HS256","typ":"JWT"}""") + "." + Base64UrlEncoder.Encode(payload);
        var key = Encoding.UTF8.GetBytes(Secret);
        return head + "." + Base64UrlEncoder.Encode(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(head)));
    }
}
