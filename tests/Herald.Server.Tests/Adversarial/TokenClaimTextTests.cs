using System.Net.WebSockets;
using System.Text;
using Herald.Protocol;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Adversarial;

/// <summary>
/// Correctly signed tokens whose claims hold invalid text: refused like any bad token (error 101 with the command's
/// id, or close 4503 for plain clients), never an internal error, and nobody else notices.
/// </summary>
public sealed class TokenClaimTextTests(AdversarialServer fixture) : IClassFixture<AdversarialServer>
{
    private static readonly string[] Payloads =
    [
        """{"sub":"BAD"}""",
        """{"sub":"u1","attrs":{"room":"BAD"}}""",
        """{"sub":"u1","attrs":{"BAD":"x"}}""",
        """{"sub":"u1","channels":["BAD"]}""",
        """{"sub":"u1","info":{"name":"BAD"}}""",
        """{"sub":"u1","BAD":1}""",
    ];

    public static TheoryData<int, string> Cases()
    {
        var data = new TheoryData<int, string>();
        for (var i = 0; i < Payloads.Length; i++)
        {
            foreach (var text in BadText.All.Keys)
            {
                data.Add(i, text);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_native_connect_with_invalid_text_in_the_claims_gets_error_101_with_its_id(int payload, string text)
    {
        var token = AdversarialServer.TokenWithPayload(BadText.Into(Payloads[payload], BadText.All[text]));
        var client = await fixture.Server.ConnectNativeAsync(connect: false);

        var reply = await TestServer.CallAsync(client, 77, "connect", $$"""{"token":"{{token}}"}""");

        Assert.Equal(ErrorCodes.Unauthorized, reply.GetProperty("error").GetProperty("code").GetInt32());
        // Claims the token library reads itself (sub, names) are refused by it as malformed, the rest by Herald's check.
        Assert.Matches("bad claims|malformed token", reply.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(DisconnectCodes.Unauthorized, await client.WaitForCloseAsync());
        await fixture.AssertUnaffectedAsync();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_plain_client_with_invalid_text_in_the_claims_is_closed_with_4503(int payload, string text)
    {
        var token = AdversarialServer.TokenWithPayload(BadText.Into(Payloads[payload], BadText.All[text]));
        await using var client = await WsClient.ConnectAsync(new Uri(fixture.Server.WebSocketUri, "?token=" + token));

        Assert.Equal(DisconnectCodes.Unauthorized, await client.WaitForCloseAsync());
        Assert.Matches("bad claims|malformed token", client.CloseDescription);
        await fixture.AssertUnaffectedAsync();
    }

    public static TheoryData<string> HeaderCases() => [.. BadText.All.Keys];

    [Theory]
    [MemberData(nameof(HeaderCases))]
    public async Task Invalid_text_in_the_token_header_is_refused_as_a_bad_token(string text)
    {
        var header = BadText.Into("""{"alg":"HS256","typ":"JWT","kid":"BAD"}""", BadText.All[text]);
        var token = AdversarialServer.TokenWithPayload("""{"sub":"u1"}"""u8.ToArray(), Encoding.UTF8.GetString(header));
        // Encoding.UTF8.GetString replaced invalid bytes; encode the exact header bytes instead.
        var parts = token.Split('.');
        token = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(header) + "." + parts[1] + "." + parts[2];
        var client = await fixture.Server.ConnectNativeAsync(connect: false);

        var reply = await TestServer.CallAsync(client, 77, "connect", $$"""{"token":"{{token}}"}""");

        Assert.Equal(ErrorCodes.Unauthorized, reply.GetProperty("error").GetProperty("code").GetInt32());
        await fixture.AssertUnaffectedAsync();
    }

    [Fact]
    public async Task A_token_with_a_surrogate_pair_in_its_claims_is_accepted()
    {
        var token = AdversarialServer.TokenWithPayload("""{"sub":"u\ud83d\ude00","attrs":{"room":"😀"}}"""u8.ToArray());
        var client = await fixture.Server.ConnectNativeAsync(connect: false);

        var reply = await TestServer.CallAsync(client, 77, "connect", $$"""{"token":"{{token}}"}""");

        Assert.Equal("u😀", reply.GetProperty("result").GetProperty("user").GetString());
        Assert.Equal(WebSocketState.Open, client.Socket.State);
        await client.DisposeAsync();
    }
}
