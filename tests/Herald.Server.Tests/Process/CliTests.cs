namespace Herald.Server.Tests.Process;

/// <summary>The command line itself: verbs and flags are the public contract scripts and service files rely on.</summary>
public sealed class CliTests
{
    [Fact]
    public async Task Help_lists_the_serve_and_config_verbs()
    {
        var result = await HeraldProcess.RunAsync(["--help"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"(?m)^\s+serve\s+Run the Herald push server", result.Stdout);
        Assert.Matches(@"(?m)^\s+config\s+Print the effective configuration", result.Stdout);
    }

    [Theory]
    [InlineData("serve")]
    [InlineData("config")]
    public async Task Both_verbs_take_every_setting_flag(string verb)
    {
        var result = await HeraldProcess.RunAsync([verb, "--help"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.All(
            new[] { "--host", "--port", "--udp-host", "--udp-port", "--api-key", "--log-file", "--log-level", "--config", "--set" },
            flag => Assert.Matches($@"(?m)^\s+{flag}\b", result.Stdout));
    }

    [Fact]
    public async Task The_flags_reach_their_settings()
    {
        var config = ConfigOutput.Parse(await HeraldProcess.RunAsync(
        [
            "config", "--host", "127.0.0.2", "--port", "7501", "--udp-host", "127.0.0.3", "--udp-port", "7502",
            "--api-key", "k", "--log-file", "x.log", "--log-level", "warning",
        ]));

        Assert.Equal("127.0.0.2", config["host"].Value);
        Assert.Equal("7501", config["port"].Value);
        Assert.Equal("127.0.0.3", config["udp_host"].Value);
        Assert.Equal("7502", config["udp_port"].Value);
        Assert.Equal("(set: 1 key, hidden)", config["api_keys"].Value);
        Assert.Equal("x.log", config["log_file"].Value);
        Assert.Equal("warning", config["log_level"].Value);
        Assert.All(new[] { "host", "port", "udp_host", "udp_port", "api_keys", "log_file", "log_level" }, key => Assert.Equal("command line", config[key].Origin));
    }
}
