namespace Herald.Server.Tests.Process;

/// <summary>The engine settings of the executable: named flags, masked secrets, and bad values that say what to write.</summary>
public sealed class EngineSettingsTests
{
    [Fact]
    public async Task Redis_flags_set_the_engine_and_the_password_is_never_shown()
    {
        var config = ConfigOutput.Parse(await HeraldProcess.RunAsync(
            ["config", "--engine", "redis", "--redis", "10.0.0.5:6379,10.0.0.6:6379", "--redis-prefix", "shop", "--set", "redis_password=hunter2"]));

        Assert.Equal(new ConfigOutput.Setting("redis", "command line"), config["engine"]);
        Assert.Equal(new ConfigOutput.Setting("10.0.0.5:6379,10.0.0.6:6379", "command line"), config["redis"]);
        Assert.Equal(new ConfigOutput.Setting("shop", "command line"), config["redis_prefix"]);
        Assert.Equal("(set, hidden)", config["redis_password"].Value);
    }

    [Theory]
    [InlineData("--engine", "cluster", "'engine'", "embedded, redis")]
    [InlineData("--redis", "nonsense", "'redis'", "host:port")]
    [InlineData("--redis-prefix", "a{b}", "'redis_prefix'", "without braces")]
    public async Task Bad_engine_values_exit_2_naming_the_setting_and_what_it_takes(string flag, string value, string names, string expected)
    {
        string[] engine = flag == "--engine" ? [] : ["--engine", "redis"];
        var result = await HeraldProcess.RunAsync(["serve", "--port", "0", "--udp-port", "0", .. engine, flag, value]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(names, result.Stderr);
        Assert.Contains(expected, result.Stderr);
    }

    [Fact]
    public async Task A_node_expiry_shorter_than_two_heartbeats_is_refused()
    {
        var result = await HeraldProcess.RunAsync(["serve", "--port", "0", "--engine", "redis", "--set", "redis_heartbeat=5s", "--set", "redis_node_expiry=6s"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("redis_node_expiry", result.Stderr);
        Assert.Contains("twice", result.Stderr);
    }
}
