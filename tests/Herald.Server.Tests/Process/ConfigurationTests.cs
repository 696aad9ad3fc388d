using Herald.Configuration;

namespace Herald.Server.Tests.Process;

/// <summary>
/// The layers of configuration as the executable reads them: defaults, then <c>herald.json</c> (or <c>--config</c>),
/// then <c>HERALD_*</c> variables, then flags; checked through <c>herald config</c> and <c>herald serve</c>.
/// </summary>
public sealed class ConfigurationTests
{
    [Fact]
    public async Task Config_prints_every_setting_once_in_order_with_its_default()
    {
        var config = ConfigOutput.Parse(await HeraldProcess.RunAsync(["config"]));

        Assert.Equal(Settings.All.Select(d => d.Key), config.Keys);
        Assert.All(Settings.All.Where(d => !d.Secret), d => Assert.Equal(new ConfigOutput.Setting(d.Default, "default"), config[d.Key]));
        Assert.Equal(new ConfigOutput.Setting("(none)", "default"), config["api_keys"]);
    }

    [Fact]
    public async Task A_config_file_sets_a_value_the_environment_overrides_it_and_a_flag_overrides_both()
    {
        using var directory = new TempDirectory();
        directory.Write("herald.json", """
            {
              // comments and trailing commas are allowed
              "port": 7101,
              "ping_interval": "30s",
            }
            """);
        var environment = new Dictionary<string, string> { ["HERALD_PORT"] = "7102" };

        var fromFile = ConfigOutput.Parse(await HeraldProcess.RunAsync(["config"], directory.Path));
        var fromEnvironment = ConfigOutput.Parse(await HeraldProcess.RunAsync(["config"], directory.Path, environment));
        var fromFlag = ConfigOutput.Parse(await HeraldProcess.RunAsync(["config", "--port", "7103"], directory.Path, environment));

        Assert.Equal(new ConfigOutput.Setting("7101", "config file herald.json"), fromFile["port"]);
        Assert.Equal(new ConfigOutput.Setting("30s", "config file herald.json"), fromFile["ping_interval"]);
        Assert.Equal(new ConfigOutput.Setting("6553", "default"), fromFile["udp_port"]);
        Assert.Equal(new ConfigOutput.Setting("7102", "HERALD_PORT"), fromEnvironment["port"]);
        Assert.Equal(new ConfigOutput.Setting("30s", "config file herald.json"), fromEnvironment["ping_interval"]);
        Assert.Equal(new ConfigOutput.Setting("7103", "command line"), fromFlag["port"]);
        Assert.Equal(new ConfigOutput.Setting("30s", "config file herald.json"), fromFlag["ping_interval"]);
    }

    [Fact]
    public async Task Named_flags_win_over_set_and_set_wins_over_the_environment()
    {
        var environment = new Dictionary<string, string> { ["HERALD_UDP_PORT"] = "7201", ["HERALD_PORT"] = "7202" };

        var config = ConfigOutput.Parse(await HeraldProcess.RunAsync(
            ["config", "--set", "port=7203", "--port", "7204", "--set", "udp_port=7205", "--set", "ping_interval=10s"], environment: environment));

        Assert.Equal(new ConfigOutput.Setting("7204", "command line"), config["port"]);
        Assert.Equal(new ConfigOutput.Setting("7205", "command line"), config["udp_port"]);
        Assert.Equal(new ConfigOutput.Setting("10s", "command line"), config["ping_interval"]);
    }

    [Fact]
    public async Task The_config_flag_reads_the_named_file_instead_of_herald_json()
    {
        using var directory = new TempDirectory();
        directory.Write("herald.json", """{"port": 7301, "udp_port": 7302}""");
        directory.Write(Path.Combine("conf", "other.json"), """{"port": 7303}""");

        var config = ConfigOutput.Parse(await HeraldProcess.RunAsync(["config", "--config", Path.Combine("conf", "other.json")], directory.Path));

        Assert.Equal(new ConfigOutput.Setting("7303", $"config file {Path.Combine("conf", "other.json")}"), config["port"]);
        Assert.Equal(new ConfigOutput.Setting("6553", "default"), config["udp_port"]);
    }

    [Fact]
    public async Task A_config_file_saved_with_a_utf8_byte_order_mark_is_read()
    {
        using var directory = new TempDirectory();
        directory.Write("herald.json", [0xEF, 0xBB, 0xBF, .. """{"port": 7401}"""u8]);

        var config = ConfigOutput.Parse(await HeraldProcess.RunAsync(["config"], directory.Path));

        Assert.Equal("7401", config["port"].Value);
    }

    [Fact]
    public async Task Serve_runs_with_the_layered_settings()
    {
        using var directory = new TempDirectory();
        directory.Write("herald.json", """{"host": "127.0.0.1", "port": 0, "udp_enabled": true, "udp_port": 0}""");

        await using var herald = HeraldProcess.Start(["serve"], directory.Path, new Dictionary<string, string> { ["HERALD_UDP_ENABLED"] = "false" });
        var listening = await herald.WaitForListeningAsync();

        Assert.Contains("WebSocket and HTTP on 127.0.0.1:", listening.Line);
        Assert.NotEqual(0, listening.HttpPort);
        Assert.Null(listening.UdpPort);
        Assert.Contains("UDP ingress disabled", listening.Line);
    }

    [Theory]
    [InlineData("flag")]
    [InlineData("environment")]
    [InlineData("file")]
    public async Task Config_never_prints_an_api_key(string source)
    {
        using var directory = new TempDirectory();
        string[] args = ["config"];
        Dictionary<string, string> environment = [];
        switch (source)
        {
            case "flag":
                args = ["config", "--api-key", "s3cret-one", "--api-key", "s3cret-two"];
                break;
            case "environment":
                environment["HERALD_API_KEYS"] = "s3cret-one,s3cret-two";
                break;
            default:
                directory.Write("herald.json", """{"api_keys": ["s3cret-one", "s3cret-two"]}""");
                break;
        }

        var result = await HeraldProcess.RunAsync(args, directory.Path, environment);

        Assert.DoesNotContain("s3cret", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("(set: 2 keys, hidden)", ConfigOutput.Parse(result)["api_keys"].Value);
    }

    public static TheoryData<string, string> BadConfigurations()
    {
        var data = new TheoryData<string, string>();
        foreach (var verb in new[] { "config", "serve" })
        {
            foreach (var name in BadConfiguration.All.Keys)
            {
                data.Add(verb, name);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(BadConfigurations))]
    public async Task A_bad_configuration_exits_2_with_a_message_naming_the_setting(string verb, string name)
    {
        var bad = BadConfiguration.All[name];
        using var directory = new TempDirectory();
        if (bad.File is not null)
        {
            directory.Write("herald.json", bad.File);
        }
        // If serve wrongly started anyway, it would listen on free loopback ports, never on the defaults.
        var safe = verb == "serve" ? SafeServeSettings.Where(s => !bad.Touches(s.Key)).SelectMany(s => new[] { "--set", $"{s.Key}={s.Value}" }) : [];

        var result = await HeraldProcess.RunAsync([verb, .. safe, .. bad.Args], directory.Path, bad.Environment, TimeSpan.FromSeconds(15));

        Assert.True(result.ExitCode == 2, $"expected exit 2, got: {result}");
        Assert.All(bad.Expected, expected => Assert.Contains(expected, result.Stderr, StringComparison.Ordinal));
        if (bad.ListsKnownSettings)
        {
            Assert.All(Settings.All, d => Assert.Contains(d.Key, result.Stderr, StringComparison.Ordinal));
        }
        Assert.DoesNotContain("listening", result.Stdout, StringComparison.Ordinal);
    }

    private static readonly KeyValuePair<string, string>[] SafeServeSettings = [new("host", "127.0.0.1"), new("port", "0"), new("udp_port", "0")];

    /// <summary>One way to get the configuration wrong, and what the error message must say about it.</summary>
    private sealed record BadConfiguration(string[] Args, Dictionary<string, string>? Environment, string? File, string[] Expected, bool ListsKnownSettings = false)
    {
        public static readonly Dictionary<string, BadConfiguration> All = new()
        {
            ["port flag not a number"] = new(["--port", "abc"], null, null, ["'abc'", "setting 'port'", "command line", "0 to 65535"]),
            ["environment duration"] = new([], new() { ["HERALD_PING_INTERVAL"] = "fast" }, null, ["'fast'", "setting 'ping_interval'", "HERALD_PING_INTERVAL"]),
            ["environment log level"] = new([], new() { ["HERALD_LOG_LEVEL"] = "loud" }, null, ["setting 'log_level'", "trace, debug, information"]),
            ["file udp_port a string"] = new([], null, """{"udp_port": "x"}""", ["setting 'udp_port'", "config file herald.json"]),
            ["file list for a single value"] = new([], null, """{"port": [1]}""", ["'port'", "config file herald.json"]),
            ["file unknown key"] = new([], null, """{"prot": 7000}""", ["'prot'", "config file 'herald.json'", "Known settings:"], ListsKnownSettings: true),
            ["file not JSON"] = new([], null, "port = 7000", ["'herald.json'", "not valid JSON"]),
            ["file not an object"] = new([], null, "[1, 2]", ["'herald.json'", "JSON object"]),
            ["config file missing"] = new(["--config", "missing.json"], null, null, ["'missing.json'", "does not exist", "--config"]),
            ["set unknown key"] = new(["--set", "prot=1"], null, null, ["'prot'", "Known settings:"], ListsKnownSettings: true),
            ["set without equals"] = new(["--set", "port"], null, null, ["--set", "key=value"]),
            ["duration too long for TimeSpan"] = new(["--set", "shutdown_timeout=99999999999999999999h"], null, null, ["setting 'shutdown_timeout'"]),
            ["host not an address"] = new(["--host", "example.com"], null, null, ["'example.com'", "setting 'host'"]),
            ["unknown flag"] = new(["--prot", "7000"], null, null, ["--prot"]),
            ["environment trusted_proxies not a range"] = new([], new() { ["HERALD_TRUSTED_PROXIES"] = "10.0.0.0/99" }, null, ["'10.0.0.0/99'", "setting 'trusted_proxies'", "HERALD_TRUSTED_PROXIES"]),
            ["max_where_values zero"] = new(["--set", "max_where_values=0"], null, null, ["setting 'max_where_values'", "a whole number from 1 to 1000000"]),
        };

        /// <summary>Whether this case sets <paramref name="key"/> itself (so serve's safe value must not hide it).</summary>
        public bool Touches(string key) =>
            Args.Any(a => a == "--" + key.Replace('_', '-') || a.StartsWith(key + "=", StringComparison.Ordinal))
            || (Environment?.ContainsKey("HERALD_" + key.ToUpperInvariant()) ?? false)
            || (File?.Contains($"\"{key}\"", StringComparison.Ordinal) ?? false);
    }
}
