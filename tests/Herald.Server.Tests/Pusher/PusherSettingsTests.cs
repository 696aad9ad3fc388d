using System.Net;
using Herald.Server.Tests.Process;

namespace Herald.Server.Tests.Pusher;

/// <summary>The settings apps and default_app and the flag --app, through the real executable.</summary>
public sealed class PusherSettingsTests
{
    [Theory]
    [InlineData("flag")]
    [InlineData("set")]
    [InlineData("environment")]
    [InlineData("file")]
    public async Task Config_shows_each_app_by_id_and_key_and_never_its_secret(string source)
    {
        using var directory = new TempDirectory();
        const string apps = """[{"id":"shop","key":"shop-key","secret":"s3cret-one"},{"id":"blog","key":"blog-key","secret":"s3cret-two","client_events":true}]""";
        string[] args = ["config"];
        Dictionary<string, string> environment = [];
        switch (source)
        {
            case "flag":
                args = ["config", "--app", "shop:shop-key:s3cret-one", "--app", "blog:blog-key:s3cret-two"];
                break;
            case "set":
                args = ["config", "--set", "apps=" + apps];
                break;
            case "environment":
                environment["HERALD_APPS"] = apps;
                break;
            default:
                directory.Write("herald.json", "{\"apps\": " + apps + ", \"default_app\": \"blog\"}");
                break;
        }

        var result = await HeraldProcess.RunAsync(args, directory.Path, environment);

        Assert.DoesNotContain("s3cret", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("shop (key shop-key, secret hidden), blog (key blog-key, secret hidden)", ConfigOutput.Parse(result)["apps"].Value);
    }

    [Theory]
    [InlineData(new[] { "--set", """apps=[{"id":"a b","key":"k","secret":"s"}]""" }, "app #1: \"id\" (\"a b\") must be 1 to 64 characters of A-Z, a-z, 0-9")]
    [InlineData(new[] { "--set", """apps=[{"id":"a","key":"k/1","secret":"s"}]""" }, "app 'a': \"key\" (\"k/1\") must be 1 to 64 characters")]
    [InlineData(new[] { "--set", """apps=[{"id":"a","key":"k","secret":"s"},{"id":"a","key":"k2","secret":"s"}]""" }, "app id 'a' is given twice")]
    [InlineData(new[] { "--set", """apps=[{"id":"a","key":"k","secret":"s"},{"id":"b","key":"k","secret":"s"}]""" }, "app 'b': key 'k' is used by another app too")]
    [InlineData(new[] { "--set", """apps=[{"id":"a","key":"k","secret":""}]""" }, "app 'a': \"secret\" must be a non-empty string")]
    [InlineData(new[] { "--set", """apps=[{"id":"a","key":"k","secret":"s","client_event":true}]""" }, "app 'a': unknown option 'client_event'")]
    [InlineData(new[] { "--set", """apps=[{"id":"a","key":"k","secret":"s","max_event_size_kb":"10"}]""" }, "option 'max_event_size_kb' must be a whole number")]
    [InlineData(new[] { "--set", """apps={"id":"a"}""" }, "must be a JSON array of app objects")]
    [InlineData(new[] { "--set", "apps=[{" }, "Setting 'apps' (from command line) is not valid JSON")]
    [InlineData(new[] { "--app", "a:k:s", "--set", "default_app=b" }, "setting 'default_app' (from command line): default_app 'b' names no configured app; apps are: a")]
    [InlineData(new[] { "--app", "a:k" }, "--app takes ID:KEY:SECRET")]
    public async Task A_bad_app_stops_the_start_with_a_message_naming_the_app_and_the_rule(string[] args, string expected)
    {
        var result = await HeraldProcess.RunAsync(["config", .. args]);

        Assert.True(result.ExitCode == 2, $"expected exit 2, got: {result}");
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_with_the_app_flag_answers_signed_requests_of_that_app()
    {
        await using var process = HeraldProcess.Start(["serve", "--host", "127.0.0.1", "--port", "0", "--udp-port", "0", "--memory",
            "--app", "main:main-key:main-secret:with:colons", "--set", "default_app=main"]);
        var listening = await process.WaitForListeningAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{listening.HttpPort}/"), Timeout = Timeouts.Default };

        using var accepted = await new PusherRequests(http, "main", "main-key", "main-secret:with:colons").PostAsync("/events", """{"name":"e","channel":"c","data":"d"}""");
        using var refused = await new PusherRequests(http, "main", "main-key", "main-secret").PostAsync("/events", """{"name":"e","channel":"c","data":"d"}""");

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.DoesNotContain("main-secret", process.Stdout + process.Stderr, StringComparison.Ordinal);
        process.AssertNoErrorsLogged();
    }
}
