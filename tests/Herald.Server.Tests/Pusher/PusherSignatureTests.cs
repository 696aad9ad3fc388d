using System.Net;
using Herald.Server.Pusher;

namespace Herald.Server.Tests.Pusher;

/// <summary>Every rule of the Pusher request signature, each broken alone against a real server.</summary>
public sealed class PusherSignatureTests
{
    private const string Trigger = """{"name":"created","channel":"orders","data":"{\"id\":1}"}""";

    [Fact]
    public void The_signature_matches_the_worked_example_of_the_Pusher_docs()
    {
        // The HTTP API reference's example: app 3, key 278d425bdf160c739803, secret 7ad3773142a6692b25b8.
        var query = new Dictionary<string, string>
        {
            ["auth_key"] = "278d425bdf160c739803", ["auth_timestamp"] = "1353088179", ["auth_version"] = "1.0",
            ["body_md5"] = "ec365a775a4cd0599faeb73354201b6f",
        };
        const string expected = "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c";

        Assert.Equal(expected, PusherRequests.Sign("7ad3773142a6692b25b8", "POST", "/apps/3/events", query));
        Assert.Equal(expected, PusherSignature.Sign("7ad3773142a6692b25b8", PusherSignature.StringToSign("POST", "/apps/3/events", query)));
    }

    [Fact]
    public void The_signed_string_lower_cases_and_sorts_keys_leaves_values_unescaped_and_skips_the_signature()
    {
        var text = PusherSignature.StringToSign("get", "/apps/1/channels", new Dictionary<string, string>
        {
            ["Name"] = "Something else", ["auth_signature"] = "x", ["auth_key"] = "foo", ["info"] = "user_count,subscription_count",
        });

        Assert.Equal("GET\n/apps/1/channels\nauth_key=foo&info=user_count,subscription_count&name=Something else", text);
    }

    [Theory]
    [InlineData(-600, true)]
    [InlineData(600, true)]
    [InlineData(-601, false)]
    [InlineData(601, false)]
    public void The_timestamp_may_be_600_seconds_away_either_way_and_no_more(int offsetSeconds, bool accepted)
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
        var app = PusherTestServers.Main;
        var query = new Dictionary<string, string>
        {
            ["auth_key"] = app.Key, ["auth_timestamp"] = (1_800_000_000 + offsetSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["auth_version"] = "1.0",
        };
        query["auth_signature"] = PusherRequests.Sign(app.Secret, "GET", "/apps/main/channels", query);

        var verified = PusherSignature.TryVerifyQuery(app, "GET", "/apps/main/channels", [.. query], now, out var error);

        Assert.True(accepted == verified, error);
        Assert.True(accepted || error.StartsWith("Timestamp expired", StringComparison.Ordinal), error);
    }

    [Fact]
    public async Task A_correctly_signed_request_is_accepted()
    {
        await using var server = await PusherTestServers.StartAsync();
        using var response = await new PusherRequests(server, PusherTestServers.Shop).PostAsync("/events", Trigger);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{}", await response.Content.ReadAsStringAsync());
    }

    public static TheoryData<string, Action<Dictionary<string, string>>?, Action<Dictionary<string, string>>?, int, string> Refusals => new()
    {
        { "expired timestamp", q => q["auth_timestamp"] = DateTimeOffset.UtcNow.AddSeconds(-700).ToUnixTimeSeconds().ToString(), null, 401, "Timestamp expired: Given timestamp (" },
        { "timestamp from the future", q => q["auth_timestamp"] = DateTimeOffset.UtcNow.AddSeconds(700).ToUnixTimeSeconds().ToString(), null, 401, "not within 600s of server time" },
        { "timestamp not a number", q => q["auth_timestamp"] = "soon", null, 401, "Invalid auth_timestamp" },
        { "another app's key", q => q["auth_key"] = PusherTestServers.Blog.Key, null, 401, "Unknown auth_key" },
        { "wrong signature", null, q => q["auth_signature"] = new string('0', 64), 401, "Invalid signature: you should have sent HmacSHA256Hex(\"POST\\n/apps/shop/events\\nauth_key=shop-key" },
        { "signature cut short", null, q => q["auth_signature"] = q["auth_signature"][..63], 401, "Invalid signature" },
        { "parameter added after signing", null, q => q["info"] = "subscription_count", 401, "Invalid signature" },
        { "wrong body_md5", q => q["body_md5"] = new string('a', 32), null, 401, "Invalid body_md5" },
        { "no body_md5", q => q.Remove("body_md5"), null, 401, "Missing authentication parameter: body_md5" },
        { "no auth_key", null, q => q.Remove("auth_key"), 401, "Missing authentication parameter: auth_key" },
        { "no auth_timestamp", null, q => q.Remove("auth_timestamp"), 401, "Missing authentication parameter: auth_timestamp" },
        { "no auth_version", null, q => q.Remove("auth_version"), 401, "Missing authentication parameter: auth_version" },
        { "no auth_signature", null, q => q.Remove("auth_signature"), 401, "Missing authentication parameter: auth_signature" },
        { "auth_version 2.0", q => q["auth_version"] = "2.0", null, 401, "Unsupported auth_version" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_request_that_breaks_a_rule_is_refused_and_publishes_nothing(string rule, Action<Dictionary<string, string>>? beforeSigning,
        Action<Dictionary<string, string>>? afterSigning, int status, string message)
    {
        await using var server = await PusherTestServers.StartAsync();
        var subscriber = await PusherTestServers.SubscriberAsync(server, null, "orders");
        var shop = new PusherRequests(server, PusherTestServers.Main);

        using var response = await shop.PostAsync("/events", Trigger, beforeSigning, afterSigning);

        Assert.True(status == (int)response.StatusCode, $"{rule}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains(message.Replace("/apps/shop/", "/apps/main/", StringComparison.Ordinal).Replace("auth_key=shop-key", "auth_key=main-key", StringComparison.Ordinal), text, StringComparison.Ordinal);
        Assert.DoesNotContain(PusherTestServers.Main.Secret, text, StringComparison.Ordinal);
        // Nothing was published: the next accepted event is the first the subscriber gets.
        using var accepted = await shop.PostAsync("/events", """{"name":"second","channel":"orders","data":"2"}""");
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal("2", (await subscriber.ReceiveJsonAsync()).GetProperty("data").GetString());
    }

    [Fact]
    public async Task An_unknown_app_is_not_found_and_a_disabled_app_is_forbidden()
    {
        await using var server = await PusherTestServers.StartAsync();

        using var unknown = await new PusherRequests(server, "nope", "nope-key", "nope-secret").PostAsync("/events", Trigger);
        using var disabled = await new PusherRequests(server, PusherTestServers.Closed).PostAsync("/events", Trigger);
        using var disabledBadlySigned = await new PusherRequests(server, PusherTestServers.Closed.Id, PusherTestServers.Closed.Key, "wrong").PostAsync("/events", Trigger);

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("Unknown app", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, disabled.StatusCode);
        Assert.Contains("disabled", await disabled.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, disabledBadlySigned.StatusCode); // whether an app is disabled is told to its signers only
    }

    [Fact]
    public async Task A_get_is_signed_over_its_query_and_a_tampered_query_is_refused()
    {
        await using var server = await PusherTestServers.StartAsync();
        var main = new PusherRequests(server, PusherTestServers.Main);
        var query = new Dictionary<string, string> { ["info"] = "subscription_count", ["filter_by_prefix"] = "ord" };

        using var signed = await main.GetAsync("/channels", query);
        using var tampered = await main.GetAsync("/channels", query, afterSigning: q => q["filter_by_prefix"] = "x");
        using var otherSecret = await new PusherRequests(server, PusherTestServers.Main.Id, PusherTestServers.Main.Key, PusherTestServers.Shop.Secret).GetAsync("/channels");

        Assert.Equal(HttpStatusCode.OK, signed.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, tampered.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, otherSecret.StatusCode);
    }
}
