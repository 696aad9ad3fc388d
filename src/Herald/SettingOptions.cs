using System.CommandLine;
using Herald.Configuration;

namespace Herald;

/// <summary>The flags shared by <c>serve</c> and <c>config</c>; each maps to a setting key.</summary>
internal sealed class SettingOptions
{
    public readonly Option<string?> Config = new("--config") { Description = "JSON config file (default: herald.json in the working directory, when present)." };

    private readonly Option<string?> _host = new("--host") { Description = "Address for WebSocket and HTTP (setting host, default 0.0.0.0)." };
    private readonly Option<string?> _port = new("--port") { Description = "Port for WebSocket and HTTP (setting port, default 6552)." };
    private readonly Option<string?> _udpHost = new("--udp-host") { Description = "Address of UDP ingress (setting udp_host, default 127.0.0.1)." };
    private readonly Option<string?> _udpPort = new("--udp-port") { Description = "Port of UDP ingress (setting udp_port, default 6553)." };
    private readonly Option<string[]> _apiKey = new("--api-key") { Description = "An API key for the HTTP API; repeat for several (setting api_keys)." };
    private readonly Option<string?> _logFile = new("--log-file") { Description = "Append logs to this file too (setting log_file)." };
    private readonly Option<string?> _logLevel = new("--log-level") { Description = "trace, debug, information, warning or error (setting log_level)." };
    private readonly Option<string?> _tokenSecret = new("--token-secret") { Description = "Secret for HS256 tokens (setting token_secret)." };
    private readonly Option<bool> _requireToken = new("--require-token") { Description = "Refuse connections without a valid token (setting require_token)." };
    private readonly Option<string?> _dataDir = new("--data-dir") { Description = "Folder of the embedded database (setting data_dir, default ./data)." };
    private readonly Option<string?> _engine = new("--engine") { Description = "embedded (default) or redis: a cluster of nodes on one Redis (setting engine)." };
    private readonly Option<string?> _redis = new("--redis") { Description = "Redis servers for --engine redis, host:port, comma-separated (setting redis, default 127.0.0.1:6379)." };
    private readonly Option<string?> _redisPrefix = new("--redis-prefix") { Description = "Prefix of every Redis key and topic (setting redis_prefix, default herald)." };
    private readonly Option<bool> _memory = new("--memory") { Description = "Keep history and inboxes in memory only (setting memory)." };
    private readonly Option<string[]> _app = new("--app") { Description = "A Pusher app as ID:KEY:SECRET (client events off); repeat for several (setting apps)." };
    private readonly Option<string[]> _set = new("--set") { Description = "Any setting as key=value, e.g. --set ping_interval=10s; repeatable." };

    public void AddTo(Command command)
    {
        command.Options.Add(Config);
        command.Options.Add(_host);
        command.Options.Add(_port);
        command.Options.Add(_udpHost);
        command.Options.Add(_udpPort);
        command.Options.Add(_apiKey);
        command.Options.Add(_logFile);
        command.Options.Add(_logLevel);
        command.Options.Add(_tokenSecret);
        command.Options.Add(_requireToken);
        command.Options.Add(_dataDir);
        command.Options.Add(_memory);
        command.Options.Add(_engine);
        command.Options.Add(_redis);
        command.Options.Add(_redisPrefix);
        command.Options.Add(_app);
        command.Options.Add(_set);
    }

    /// <summary>The command-line values by setting key; named flags win over <c>--set</c>.</summary>
    public IEnumerable<KeyValuePair<string, string>> Overrides(ParseResult parse)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var pair in parse.GetValue(_set) ?? [])
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new ConfigException($"--set takes key=value, got '{pair}'.");
            }
            result.Add(new(pair[..equals].Trim(), pair[(equals + 1)..]));
        }
        Add(result, "host", parse.GetValue(_host));
        Add(result, "port", parse.GetValue(_port));
        Add(result, "udp_host", parse.GetValue(_udpHost));
        Add(result, "udp_port", parse.GetValue(_udpPort));
        var keys = parse.GetValue(_apiKey);
        if (keys is { Length: > 0 })
        {
            result.Add(new("api_keys", string.Join(",", keys)));
        }
        var apps = parse.GetValue(_app);
        if (apps is { Length: > 0 })
        {
            result.Add(new("apps", AppsSetting.FromFlags(apps)));
        }
        Add(result, "log_file", parse.GetValue(_logFile));
        Add(result, "log_level", parse.GetValue(_logLevel));
        Add(result, "token_secret", parse.GetValue(_tokenSecret));
        Add(result, "data_dir", parse.GetValue(_dataDir));
        Add(result, "engine", parse.GetValue(_engine));
        Add(result, "redis", parse.GetValue(_redis));
        Add(result, "redis_prefix", parse.GetValue(_redisPrefix));
        if (parse.GetValue(_memory))
        {
            result.Add(new("memory", "true"));
        }
        if (parse.GetValue(_requireToken))
        {
            result.Add(new("require_token", "true"));
        }
        return result;
    }

    private static void Add(List<KeyValuePair<string, string>> list, string key, string? value)
    {
        if (value is not null)
        {
            list.Add(new(key, value));
        }
    }
}
