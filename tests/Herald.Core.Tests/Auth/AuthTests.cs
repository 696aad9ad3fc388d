using System.Text.Json;
using Herald.Core.Auth;
using Herald.Core.Channels;
using Herald.Core.Connections;
using Herald.Protocol;
using Microsoft.Extensions.Logging.Abstractions;

namespace Herald.Core.Tests.Auth;

public sealed class AuthTests
{
    private const string Secret = "test-secret-that-is-long-enough-for-hs256!";

    private static Node CreateNode(NodeOptions? options = null, TokenOptions? tokens = null, TimeProvider? time = null)
    {
        options ??= new NodeOptions();
        var verifier = new JwtTokenVerifier(tokens ?? new TokenOptions { Secret = Secret }, options.MaxAttributes, time: time);
        return new Node(options, NullLogger<Node>.Instance, time: time, tokens: verifier);
    }

    private static string Token(string? user, TimeSpan? ttl = null, Dictionary<string, string>? attrs = null, string[]? channels = null,
        string? channel = null, string secret = Secret, DateTimeOffset? now = null) =>
        TokenIssuer.Create(secret, user, ttl ?? TimeSpan.FromHours(1), attrs, channels, channel, now: now);

    private static (Connection Connection, RecordingTransport Transport, JsonElement Reply) Connect(Node node, string? token, string? attrs = null)
    {
        var transport = new RecordingTransport();
        var connection = node.Open(transport, ConnectionKind.Native, "127.0.0.1:1");
        var parameters = new List<string>();
        if (token is not null)
        {
            parameters.Add($"\"token\":\"{token}\"");
        }
        if (attrs is not null)
        {
            parameters.Add($"\"attrs\":{attrs}");
        }
        node.Send(connection, "{\"id\":1,\"method\":\"connect\",\"params\":{" + string.Join(",", parameters) + "}}");
        return (connection, transport, JsonDocument.Parse(transport.Texts.First()).RootElement.Clone());
    }

    private static string Refresh(int id, string token) => $"{{\"id\":{id},\"method\":\"refresh\",\"params\":{{\"token\":\"{token}\"}}}}";

    private static int ErrorCode(JsonElement reply) => reply.GetProperty("error").GetProperty("code").GetInt32();

    private static string ErrorMessage(JsonElement reply) => reply.GetProperty("error").GetProperty("message").GetString()!;

    [Fact]
    public void A_valid_token_sets_user_and_the_reply_says_when_it_expires()
    {
        using var node = CreateNode();

        var (connection, _, reply) = Connect(node, Token("42", TimeSpan.FromMinutes(10)));

        Assert.Equal(ConnectionState.Ready, connection.State);
        Assert.Equal("42", connection.UserId);
        Assert.Equal("42", reply.GetProperty("result").GetProperty("user").GetString());
        Assert.InRange(reply.GetProperty("result").GetProperty("expires_in").GetInt64(), 590, 600);
    }

    [Theory]
    [InlineData("bad signature")]
    [InlineData("malformed")]
    public void Invalid_tokens_are_refused_with_a_specific_error_and_closed_with_4503(string kind)
    {
        using var node = CreateNode();
        var token = kind == "bad signature" ? Token("42", secret: "another-secret-another-secret-another!!") : "not.a.jwt";

        var (connection, transport, reply) = Connect(node, token);

        Assert.Equal(ErrorCodes.Unauthorized, ErrorCode(reply));
        Assert.StartsWith(kind, ErrorMessage(reply));
        Assert.Equal(DisconnectCodes.Unauthorized, transport.CloseCode);
        Assert.NotEqual(ConnectionState.Ready, connection.State);
    }

    [Fact]
    public void A_token_whose_sub_holds_a_control_character_is_refused()
    {
        // Another app's users are marked with U+001F (AppScope): a default-app token must never name one of them.
        using var node = CreateNode();

        var (connection, transport, reply) = Connect(node, Token("shop\u001Falice"));

        Assert.Equal(ErrorCodes.Unauthorized, ErrorCode(reply));
        Assert.Contains("control character", ErrorMessage(reply), StringComparison.Ordinal);
        Assert.Equal(DisconnectCodes.Unauthorized, transport.CloseCode);
        Assert.Equal("", connection.UserId);
    }

    [Theory]
    [InlineData("HS256")]
    [InlineData("HS384")]
    [InlineData("HS512")]
    public void Hmac_tokens_of_every_size_are_accepted(string algorithm)
    {
        using var node = CreateNode();
        var credentials = new Microsoft.IdentityModel.Tokens.SigningCredentials(HmacKey.For(Secret), algorithm);
        var token = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken("""{"sub":"42"}""", credentials);

        var (connection, _, reply) = Connect(node, token);

        Assert.True(reply.TryGetProperty("result", out _), reply.ToString());
        Assert.Equal("42", connection.UserId);
    }

    [Fact]
    public void Tokens_signed_with_a_short_secret_by_a_plain_hmac_verify_like_other_libraries_make_them()
    {
        // What a PHP or Node backend does by hand: base64url(header).base64url(payload), HMAC-SHA256 with the raw secret.
        const string shortSecret = "short";
        using var node = CreateNode(tokens: new TokenOptions { Secret = shortSecret });
        static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var signingInput = B64("""{"alg":"HS256","typ":"JWT"}"""u8.ToArray()) + "." + B64("""{"sub":"php-user"}"""u8.ToArray());
        var signature = System.Security.Cryptography.HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(shortSecret), System.Text.Encoding.ASCII.GetBytes(signingInput));

        var (connection, _, _) = Connect(node, signingInput + "." + B64(signature));

        Assert.Equal("php-user", connection.UserId);
    }

    [Fact]
    public void Expired_tokens_are_refused_with_109_and_closed_with_4005()
    {
        using var node = CreateNode();

        var (_, transport, reply) = Connect(node, Token("42", TimeSpan.FromMinutes(1), now: DateTimeOffset.UtcNow.AddHours(-1)));

        Assert.Equal(ErrorCodes.TokenExpired, ErrorCode(reply));
        Assert.StartsWith("token expired", ErrorMessage(reply));
        Assert.Equal(DisconnectCodes.TokenExpired, transport.CloseCode);
    }

    [Fact]
    public void Issuer_and_audience_are_checked_when_configured()
    {
        using var node = CreateNode(tokens: new TokenOptions { Secret = Secret, Issuer = "erp", Audience = "herald" });
        var wrongIssuer = TokenIssuer.Create(Secret, "1", TimeSpan.FromHours(1), issuer: "crm", audience: "herald");
        var wrongAudience = TokenIssuer.Create(Secret, "1", TimeSpan.FromHours(1), issuer: "erp", audience: "other");
        var right = TokenIssuer.Create(Secret, "1", TimeSpan.FromHours(1), issuer: "erp", audience: "herald");

        Assert.StartsWith("wrong issuer", ErrorMessage(Connect(node, wrongIssuer).Reply));
        Assert.StartsWith("wrong audience", ErrorMessage(Connect(node, wrongAudience).Reply));
        Assert.Equal(ConnectionState.Ready, Connect(node, right).Connection.State);
    }

    [Fact]
    public void Tokens_are_refused_when_no_key_is_configured()
    {
        using var node = CreateNode(tokens: new TokenOptions());

        var (_, _, reply) = Connect(node, Token("42"));

        Assert.Equal(ErrorCodes.Unauthorized, ErrorCode(reply));
        Assert.Contains("token_secret", ErrorMessage(reply), StringComparison.Ordinal);
    }

    [Fact]
    public void Require_token_refuses_connections_without_one()
    {
        using var node = CreateNode(new NodeOptions { RequireToken = true });

        var (_, transport, reply) = Connect(node, null);
        var (ok, _, _) = Connect(node, Token("7"));

        Assert.Equal(ErrorCodes.Unauthorized, ErrorCode(reply));
        Assert.Equal(DisconnectCodes.Unauthorized, transport.CloseCode);
        Assert.Equal(ConnectionState.Ready, ok.State);
    }

    [Fact]
    public async Task Plain_clients_authenticate_with_a_url_token_and_get_its_attributes()
    {
        using var node = CreateNode(new NodeOptions { RequireToken = true });
        var good = new RecordingTransport();
        var goodConnection = node.Open(good, ConnectionKind.Plain, "127.0.0.1:1", Token("42", attrs: new() { ["school_id"] = "2" }));
        var bad = new RecordingTransport();
        var badConnection = node.Open(bad, ConnectionKind.Plain, "127.0.0.1:2", "garbage");
        var missing = new RecordingTransport();
        var missingConnection = node.Open(missing, ConnectionKind.Plain, "127.0.0.1:3");

        node.Publish("""{"where":{},"data":"before auth"}""");
        await node.AuthenticatePlainAsync(goodConnection, Token("42", attrs: new() { ["school_id"] = "2" }));
        await node.AuthenticatePlainAsync(badConnection, "garbage");
        await node.AuthenticatePlainAsync(missingConnection, null);
        node.Publish("""{"where":{"school_id":"2"},"data":"after auth"}""");

        Assert.Equal(["after auth"], good.Texts);
        Assert.Equal(DisconnectCodes.Unauthorized, bad.CloseCode);
        Assert.Equal(DisconnectCodes.Unauthorized, missing.CloseCode);
    }

    [Fact]
    public void In_token_mode_client_attributes_are_refused_and_token_attributes_are_used()
    {
        using var node = CreateNode(new NodeOptions { AttributesFrom = AttributeSource.Token });
        var token = Token("42", attrs: new() { ["school_id"] = "2" });

        var (_, _, refused) = Connect(node, token, attrs: """{"school_id":"9"}""");
        var (connection, transport, reply) = Connect(node, token);
        node.Send(connection, """{"id":2,"method":"attrs","params":{"attrs":{"school_id":"9"}}}""");

        Assert.Equal(ErrorCodes.PermissionDenied, ErrorCode(refused));
        Assert.Contains("attributes_from=token", ErrorMessage(refused), StringComparison.Ordinal);
        Assert.True(reply.TryGetProperty("result", out _));
        Assert.Equal(ErrorCodes.PermissionDenied, ErrorCode(JsonDocument.Parse(transport.Texts.Last()).RootElement));
        Assert.True(connection.Attributes.TryGetValue("school_id", out var school) && school == "2");
    }

    [Fact]
    public void In_client_mode_token_attributes_win_over_client_ones()
    {
        using var node = CreateNode();

        var (connection, _, _) = Connect(node, Token("42", attrs: new() { ["school_id"] = "2" }), attrs: """{"school_id":"9","class":"1"}""");
        node.Send(connection, """{"id":2,"method":"attrs","params":{"attrs":{"school_id":"8","class":"3"}}}""");

        Assert.True(connection.Attributes.TryGetValue("school_id", out var school) && school == "2");
        Assert.True(connection.Attributes.TryGetValue("class", out var cls) && cls == "3");
    }

    [Fact]
    public void Token_channels_are_subscribed_at_connect()
    {
        using var node = CreateNode();

        var (connection, transport, reply) = Connect(node, Token("42", channels: ["orders", "user#42"]));
        node.Publish("""{"channel":"orders","data":1}""");

        Assert.Equal(["orders", "user#42"], connection.Channels.Order());
        var subs = reply.GetProperty("result").GetProperty("subs");
        Assert.Equal(0UL, subs.GetProperty("orders").GetProperty("offset").GetUInt64());
        Assert.True(subs.TryGetProperty("user#42", out _));
        Assert.Equal("""{"push":"pub","channel":"orders","offset":1,"data":1}""", transport.Texts.Last());
    }

    [Fact]
    public void User_targets_reach_every_connection_of_those_users_only()
    {
        using var node = CreateNode();
        var (_, phone, _) = Connect(node, Token("42"));
        var (_, laptop, _) = Connect(node, Token("42"));
        var (_, other, _) = Connect(node, Token("43"));
        var (_, third, _) = Connect(node, Token("44"));

        var single = node.Publish("""{"user":"42","data":"for 42"}""");
        var many = node.Publish("""{"users":["43","44","nobody"],"data":"for 43 and 44"}""");

        Assert.Equal(2, single.Recipients);
        Assert.Equal(2, many.Recipients);
        Assert.Equal("""{"push":"inbox","offset":1,"data":"for 42"}""", phone.Texts.Last());
        Assert.Equal("""{"push":"inbox","offset":1,"data":"for 42"}""", laptop.Texts.Last());
        Assert.Equal("""{"push":"inbox","offset":1,"data":"for 43 and 44"}""", other.Texts.Last());
        Assert.Equal("""{"push":"inbox","offset":1,"data":"for 43 and 44"}""", third.Texts.Last());
        Assert.Equal(1UL, single.InboxOffsets!["42"]);
    }

    [Fact]
    public void Connections_beyond_the_per_user_limit_are_refused()
    {
        using var node = CreateNode(new NodeOptions { MaxConnectionsPerUser = 2 });
        Connect(node, Token("42"));
        Connect(node, Token("42"));

        var (_, transport, reply) = Connect(node, Token("42"));
        var (otherUser, _, _) = Connect(node, Token("43"));

        Assert.Equal(ErrorCodes.LimitExceeded, ErrorCode(reply));
        Assert.Equal(DisconnectCodes.ConnectionLimit, transport.CloseCode);
        Assert.Equal(2, node.ConnectionCountOf("42"));
        Assert.Equal(ConnectionState.Ready, otherUser.State);
    }

    [Fact]
    public void Refresh_extends_the_connection_and_refuses_another_users_or_an_expired_token()
    {
        using var node = CreateNode();
        var (connection, transport, _) = Connect(node, Token("42", TimeSpan.FromMinutes(1)));

        node.Send(connection, Refresh(2, Token("42", TimeSpan.FromHours(2))));
        var refreshed = JsonDocument.Parse(transport.Texts.Last()).RootElement;
        node.Send(connection, Refresh(3, Token("43")));
        var otherUser = JsonDocument.Parse(transport.Texts.Last()).RootElement;
        node.Send(connection, Refresh(4, Token("42", TimeSpan.FromSeconds(1), now: DateTimeOffset.UtcNow.AddHours(-1))));
        var expired = JsonDocument.Parse(transport.Texts.Last()).RootElement;

        Assert.InRange(refreshed.GetProperty("result").GetProperty("expires_in").GetInt64(), 7190, 7200);
        Assert.Equal(ErrorCodes.Unauthorized, ErrorCode(otherUser));
        Assert.Equal(ErrorCodes.TokenExpired, ErrorCode(expired));
        Assert.Equal(ConnectionState.Ready, connection.State);
    }

    [Fact]
    public void A_connection_whose_token_expires_is_closed_with_4005()
    {
        var time = new ManualTime(DateTimeOffset.UtcNow);
        using var node = CreateNode(time: time);
        var (connection, transport, _) = Connect(node, Token("42", TimeSpan.FromSeconds(30), now: time.GetUtcNow()));

        time.Advance(TimeSpan.FromSeconds(20));
        node.Tick();
        Assert.Equal(ConnectionState.Ready, connection.State);
        time.Advance(TimeSpan.FromSeconds(11));
        node.Tick();

        Assert.Equal(DisconnectCodes.TokenExpired, transport.CloseCode);
    }

    [Fact]
    public void Namespaces_control_who_may_subscribe()
    {
        using var node = CreateNode(new NodeOptions
        {
            Namespaces =
            [
                new NamespaceOptions { Name = "secret", Private = true },
                new NamespaceOptions { Name = "staff", AnonymousSubscribe = false },
                new NamespaceOptions { Name = "chat", ClientPublish = true },
            ],
        });
        var (user, ut, _) = Connect(node, Token("42"));
        var (anon, at, _) = Connect(node, null);

        JsonElement Call(Connection c, RecordingTransport t, string channel, string? token = null)
        {
            var tokenPart = token is null ? "" : $",\"token\":\"{token}\"";
            node.Send(c, "{\"id\":9,\"method\":\"subscribe\",\"params\":{\"channel\":\"" + channel + "\"" + tokenPart + "}}");
            return JsonDocument.Parse(t.Texts.Last()).RootElement.Clone();
        }

        Assert.Equal(ErrorCodes.UnknownNamespace, ErrorCode(Call(user, ut, "nope:x")));
        Assert.Contains("configured: ", ErrorMessage(Call(user, ut, "nope:x")), StringComparison.Ordinal);
        Assert.Equal(ErrorCodes.PermissionDenied, ErrorCode(Call(user, ut, "secret:plans")));
        Assert.True(Call(user, ut, "secret:plans", Token("42", channel: "secret:plans")).TryGetProperty("result", out _));
        Assert.Equal(ErrorCodes.PermissionDenied, ErrorCode(Call(user, ut, "secret:other", Token("42", channel: "secret:plans"))));
        Assert.Equal(ErrorCodes.PermissionDenied, ErrorCode(Call(user, ut, "secret:plans2", Token("43", channel: "secret:plans2"))));
        Assert.Equal(ErrorCodes.Unauthorized, ErrorCode(Call(user, ut, "secret:plans3", "garbage")));
        Assert.Equal(ErrorCodes.PermissionDenied, ErrorCode(Call(anon, at, "staff:news")));
        Assert.True(Call(user, ut, "staff:news").TryGetProperty("result", out _));
        Assert.True(Call(user, ut, "orders#42").TryGetProperty("result", out _));
        Assert.True(Call(user, ut, "chat:room#7,42").TryGetProperty("result", out _));
        Assert.Equal(ErrorCodes.PermissionDenied, ErrorCode(Call(user, ut, "orders#43")));
        Assert.Equal(ErrorCodes.PermissionDenied, ErrorCode(Call(anon, at, "orders#42")));

        node.Send(user, """{"id":10,"method":"publish","params":{"channel":"chat:room#7,42","data":1}}""");
        Assert.True(JsonDocument.Parse(ut.Texts.Last(t => t.StartsWith("{\"id\":10", StringComparison.Ordinal))).RootElement.TryGetProperty("result", out _));
        node.Send(user, """{"id":11,"method":"publish","params":{"channel":"staff:news","data":1}}""");
        Assert.Equal(ErrorCodes.PermissionDenied, ErrorCode(JsonDocument.Parse(ut.Texts.Last()).RootElement));
    }

    [Fact]
    public void Publishing_to_an_unknown_namespace_is_refused()
    {
        using var node = CreateNode();

        var result = node.Publish(new Herald.Core.Routing.PublishRequest(["nope:x"], null, "1"u8.ToArray(), false));

        Assert.False(result.Succeeded);
        Assert.Equal(ErrorCodes.UnknownNamespace, result.ErrorCode);
    }

    [Fact]
    public void Clients_sending_faster_than_the_rate_limit_get_108()
    {
        using var node = CreateNode(new NodeOptions { ClientMessageRate = 5 });
        var (connection, transport, _) = Connect(node, null);

        for (var i = 0; i < 20; i++)
        {
            node.Send(connection, $$"""{"id":{{100 + i}},"method":"ping"}""");
        }

        Assert.Contains(transport.Texts, t => t.Contains("\"code\":108", StringComparison.Ordinal) && t.Contains("client_message_rate", StringComparison.Ordinal));
        Assert.Equal(ConnectionState.Ready, connection.State);
    }
}
