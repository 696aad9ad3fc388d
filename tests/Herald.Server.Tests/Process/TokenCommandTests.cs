using System.Globalization;
using System.Text.Json;
using Herald.Core.Auth;
using Herald.Protocol;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Process;

/// <summary>The token contract as outside checks use it: herald token, herald token check, serve --token-secret --require-token.</summary>
public sealed class TokenCommandTests
{
    private const string Secret = "process-token-secret";

    [Fact]
    public async Task Token_prints_a_token_that_token_check_accepts_with_its_claims()
    {
        var minted = await HeraldProcess.RunAsync(["token", "--secret", Secret, "--user", "42", "--attr", "school_id=2", "--channel", "orders", "--ttl", "1h"]);
        Assert.Equal(0, minted.ExitCode);
        var token = minted.Stdout.Trim();
        Assert.Equal(3, token.Split('.').Length);

        var checkedOk = await HeraldProcess.RunAsync(["token", "check", token, "--secret", Secret]);
        var refused = await HeraldProcess.RunAsync(["token", "check", token, "--secret", "another"]);

        Assert.Equal(0, checkedOk.ExitCode);
        using var claims = JsonDocument.Parse(checkedOk.Stdout);
        Assert.Equal("42", claims.RootElement.GetProperty("user").GetString());
        Assert.Equal("2", claims.RootElement.GetProperty("attrs").GetProperty("school_id").GetString());
        Assert.Equal("orders", claims.RootElement.GetProperty("channels")[0].GetString());
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("bad signature", refused.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_takes_the_secret_from_the_environment_and_refuses_without_one()
    {
        var withEnv = await HeraldProcess.RunAsync(["token", "--user", "7"], environment: new Dictionary<string, string> { ["HERALD_TOKEN_SECRET"] = Secret });
        var without = await HeraldProcess.RunAsync(["token", "--user", "7"]);
        var badTtl = await HeraldProcess.RunAsync(["token", "--secret", Secret, "--ttl", "soon"]);

        Assert.Equal(0, withEnv.ExitCode);
        Assert.Equal(0, (await HeraldProcess.RunAsync(["token", "check", withEnv.Stdout.Trim(), "--secret", Secret])).ExitCode);
        Assert.Equal(2, without.ExitCode);
        Assert.Contains("token_secret", without.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, badTtl.ExitCode);
    }

    [Fact]
    public async Task Serve_with_token_secret_and_require_token_accepts_valid_tokens_and_refuses_the_rest()
    {
        var port = FreePorts.Tcp();
        await using var herald = HeraldProcess.Start(
            ["serve", "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--udp-port", "0", "--token-secret", Secret, "--require-token"]);
        await herald.WaitForListeningAsync();
        var uri = new Uri($"ws://127.0.0.1:{port}/");
        var token = TokenIssuer.Create(Secret, "42", TimeSpan.FromHours(1), new Dictionary<string, string> { ["school_id"] = "2" });

        await using var native = await WsClient.ConnectAsync(uri, ProtocolNames.SubprotocolV1);
        await native.SendAsync("{\"id\":1,\"method\":\"connect\",\"params\":{\"token\":\"" + token + "\"}}");
        var reply = await native.ReceiveJsonAsync();
        await using var plainWithToken = await WsClient.ConnectAsync(new Uri(uri, "?token=" + token));
        await using var plainWithout = await WsClient.ConnectAsync(uri);
        await using var nativeWithout = await WsClient.ConnectAsync(uri, ProtocolNames.SubprotocolV1);
        await nativeWithout.SendAsync("""{"id":1,"method":"connect"}""");

        Assert.Equal("42", reply.GetProperty("result").GetProperty("user").GetString());
        Assert.Equal(DisconnectCodes.Unauthorized, await plainWithout.WaitForCloseAsync());
        Assert.Equal(ErrorCodes.Unauthorized, (await nativeWithout.ReceiveJsonAsync()).GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(DisconnectCodes.Unauthorized, await nativeWithout.WaitForCloseAsync());
        await plainWithToken.SendAsync("ping");
        Assert.Equal("pong", await plainWithToken.ReceiveAsync());
    }

    [Fact]
    public async Task Config_file_accepts_scoped_api_keys_and_namespaces_and_rejects_bad_ones()
    {
        using var directory = new TempDirectory();
        await File.WriteAllTextAsync(Path.Combine(directory.Path, "herald.json"), """
            {
              "api_keys": [ "plain-key", { "name": "erp", "key": "erp-key", "scope": "publish" } ],
              "namespaces": [ { "name": "orders", "anonymous_subscribe": false, "private": true } ],
              "udp_allow": [ "127.0.0.0/8", "10.0.0.0/8" ]
            }
            """);
        var ok = await HeraldProcess.RunAsync(["config"], directory.Path);
        await File.WriteAllTextAsync(Path.Combine(directory.Path, "herald.json"), """{ "api_keys": [ { "name": "erp", "key": "k", "scope": "admin" } ] }""");
        var badScope = await HeraldProcess.RunAsync(["config"], directory.Path);
        await File.WriteAllTextAsync(Path.Combine(directory.Path, "herald.json"), """{ "udp_allow": "10.0.0.0/33" }""");
        var badCidr = await HeraldProcess.RunAsync(["config"], directory.Path);

        Assert.Equal(0, ok.ExitCode);
        Assert.Contains("(set: 2 keys, hidden)", ok.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("erp-key", ok.Stdout, StringComparison.Ordinal);
        Assert.Equal(2, badScope.ExitCode);
        Assert.Contains("'api_keys'", badScope.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, badCidr.ExitCode);
        Assert.Contains("'udp_allow'", badCidr.Stderr, StringComparison.Ordinal);
    }
}
