using System.Globalization;
using System.Net;
using System.Text.Json;
using Herald.Core.Auth;
using Herald.Core.Channels;
using Herald.Server.Api;

namespace Herald.Configuration;

/// <summary>
/// The value of every setting after layering defaults, the config file, <c>HERALD_*</c> environment variables and
/// command-line flags (later wins), each remembering where it came from.
/// </summary>
internal sealed class EffectiveSettings
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    private EffectiveSettings()
    {
        foreach (var definition in Settings.All)
        {
            _entries[definition.Key] = new Entry(definition.Default, SettingSource.Default, "default");
        }
    }

    public sealed record Entry(string Value, SettingSource Source, string Origin);

    public IReadOnlyDictionary<string, Entry> Entries => _entries;

    /// <summary>
    /// Loads the layers. <paramref name="configFile"/> null means <c>herald.json</c> in the working directory when it
    /// exists. <paramref name="overrides"/> are the command-line values by key.
    /// </summary>
    public static EffectiveSettings Load(string? configFile, IDictionary<string, string> environment, IEnumerable<KeyValuePair<string, string>> overrides)
    {
        var settings = new EffectiveSettings();
        var file = configFile;
        if (file is null && File.Exists("herald.json"))
        {
            file = "herald.json";
        }
        if (file is not null)
        {
            settings.LoadFile(file);
        }
        foreach (var definition in Settings.All)
        {
            if (environment.TryGetValue(definition.EnvironmentVariable, out var value))
            {
                settings.Set(definition.Key, value, SettingSource.Environment, definition.EnvironmentVariable);
            }
        }
        foreach (var (key, value) in overrides)
        {
            if (Settings.Find(key) is null)
            {
                throw new ConfigException($"Unknown setting '{key}' on the command line. Known settings: {string.Join(", ", Settings.All.Select(d => d.Key))}.");
            }
            settings.Set(key, value, SettingSource.CommandLine, "command line");
        }
        return settings;
    }

    private void LoadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new ConfigException($"Config file '{path}' does not exist (flag --config).");
        }
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"Config file '{path}' cannot be read (flag --config): {ex.Message}");
        }
        // Editors on Windows save UTF-8 with a byte order mark, which JsonDocument does not skip on its own.
        var json = bytes.AsMemory();
        if (json.Span.StartsWith("\uFEFF"u8))
        {
            json = json[3..];
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new ConfigException($"Config file '{path}' is not valid JSON: {ex.Message}");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ConfigException($"Config file '{path}' must hold a JSON object such as {{\"port\": 6552}}.");
            }
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var definition = Settings.Find(property.Name)
                    ?? throw new ConfigException($"Unknown setting '{property.Name}' in config file '{path}'. Known settings: {string.Join(", ", Settings.All.Select(d => d.Key))}.");
                var origin = $"config file {path}";
                var value = property.Value.ValueKind switch
                {
                    JsonValueKind.String => property.Value.GetString()!,
                    JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => property.Value.GetRawText(),
                    JsonValueKind.Null => "",
                    JsonValueKind.Array when definition.Json && (!definition.List || property.Value.EnumerateArray().Any(e => e.ValueKind == JsonValueKind.Object)) =>
                        property.Value.GetRawText(),
                    JsonValueKind.Array when definition.List => string.Join(",", property.Value.EnumerateArray().Select(e =>
                        e.ValueKind == JsonValueKind.String ? e.GetString()! : throw new ConfigException($"Setting '{property.Name}' ({origin}) must be a list of strings."))),
                    _ => throw new ConfigException($"Setting '{property.Name}' ({origin}) must be {(definition.List ? "a list of strings" : "a string, number or boolean")}."),
                };
                Set(definition.Key, value, SettingSource.ConfigFile, origin);
            }
        }
    }

    private void Set(string key, string value, SettingSource source, string origin) => _entries[key] = new Entry(value, source, origin);

    public string String(string key) => _entries[key].Value;

    public string NonEmpty(string key)
    {
        var entry = _entries[key];
        return string.IsNullOrWhiteSpace(entry.Value) ? throw Invalid(key, entry, "a non-empty value") : entry.Value.Trim();
    }

    /// <summary>Redis addresses: host:port each, at least one.</summary>
    public IReadOnlyList<string> RedisAddresses(string key)
    {
        var entry = _entries[key];
        var list = List(key);
        foreach (var address in list)
        {
            var colon = address.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(address[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            {
                throw Invalid(key, entry, "host:port addresses separated by commas, e.g. 127.0.0.1:6379");
            }
        }
        return list.Count > 0 ? list : throw Invalid(key, entry, "at least one host:port address, e.g. 127.0.0.1:6379");
    }

    /// <summary>A Redis key prefix: not empty, no braces (Redis Cluster hash tags), no spaces.</summary>
    public string RedisPrefix(string key)
    {
        var entry = _entries[key];
        var value = entry.Value.Trim();
        return value.Length == 0 || value.AsSpan().IndexOfAny("{} ") >= 0
            ? throw Invalid(key, entry, "a non-empty prefix without braces or spaces, e.g. herald or shop-prod")
            : value;
    }

    public IReadOnlyList<string> List(string key) =>
        [.. _entries[key].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    /// <summary>API keys: a comma-separated list (full access each) or a JSON array of strings and {name,key,scope} objects.</summary>
    public IReadOnlyList<ApiKey> ApiKeys(string key)
    {
        var entry = _entries[key];
        if (!entry.Value.TrimStart().StartsWith('['))
        {
            return [.. List(key).Select(k => (ApiKey)k)];
        }
        var keys = new List<ApiKey>();
        using var document = ParseJson(key, entry);
        var index = 0;
        foreach (var element in document.RootElement.EnumerateArray())
        {
            index++;
            if (element.ValueKind == JsonValueKind.String)
            {
                keys.Add(element.GetString()!);
                continue;
            }
            var name = element.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : $"key{index}";
            if (!element.TryGetProperty("key", out var k) || k.ValueKind != JsonValueKind.String || k.GetString()!.Length == 0)
            {
                throw new ConfigException($"Setting '{key}' (from {entry.Origin}): entry '{name}' needs \"key\", the secret string.");
            }
            var scopeText = element.TryGetProperty("scope", out var sc) && sc.ValueKind == JsonValueKind.String ? sc.GetString()! : "full";
            if (!System.Enum.TryParse<ApiKeyScope>(scopeText, ignoreCase: true, out var scope) || int.TryParse(scopeText, out _))
            {
                throw new ConfigException($"Setting '{key}' (from {entry.Origin}): entry '{name}' has scope '{scopeText}'; expected publish or full.");
            }
            keys.Add(new ApiKey(name, k.GetString()!, scope));
        }
        return keys;
    }

    /// <summary>Namespaces from a JSON array of objects.</summary>
    public IReadOnlyList<NamespaceOptions> Namespaces(string key)
    {
        var entry = _entries[key];
        if (string.IsNullOrWhiteSpace(entry.Value))
        {
            return [];
        }
        using var document = ParseJson(key, entry);
        var result = new List<NamespaceOptions>();
        foreach (var element in document.RootElement.EnumerateArray())
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String)
            {
                throw new ConfigException($"Setting '{key}' (from {entry.Origin}): each namespace must be an object with a \"name\" string.");
            }
            var name = nameElement.GetString()!;
            if (name.Contains(':', StringComparison.Ordinal) || result.Any(r => r.Name == name))
            {
                throw new ConfigException($"Setting '{key}' (from {entry.Origin}): namespace \"{name}\" contains ':' or is given twice.");
            }
            bool Flag(string property, bool fallback)
            {
                if (!element.TryGetProperty(property, out var value))
                {
                    return fallback;
                }
                return value.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    _ => throw new ConfigException($"Setting '{key}' (from {entry.Origin}): namespace \"{name}\" option '{property}' must be true or false."),
                };
            }
            foreach (var property in element.EnumerateObject())
            {
                if (property.Name is not ("name" or "anonymous_subscribe" or "private" or "client_publish" or "user_limited" or "history_size" or "history_ttl" or "presence" or "join_leave" or "join_leave_per_user"))
                {
                    throw new ConfigException($"Setting '{key}' (from {entry.Origin}): namespace \"{name}\" has unknown option '{property.Name}'; options are anonymous_subscribe, private, client_publish, user_limited, history_size, history_ttl, presence, join_leave, join_leave_per_user.");
                }
            }
            int HistorySize()
            {
                if (!element.TryGetProperty("history_size", out var value))
                {
                    return Int("history_size", 0, 1_000_000);
                }
                return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n >= 0
                    ? n
                    : throw new ConfigException($"Setting '{key}' (from {entry.Origin}): namespace \"{name}\" option 'history_size' must be a whole number, 0 or more.");
            }
            TimeSpan HistoryTtl()
            {
                if (!element.TryGetProperty("history_ttl", out var value))
                {
                    return Duration("history_ttl", TimeSpan.Zero, TimeSpan.FromDays(3650));
                }
                var text = value.ValueKind == JsonValueKind.Number ? value.GetRawText() : value.ValueKind == JsonValueKind.String ? value.GetString()! : "";
                return Settings.TryParseDuration(text, out var ttl)
                    ? ttl
                    : throw new ConfigException($"Setting '{key}' (from {entry.Origin}): namespace \"{name}\" option 'history_ttl' must be a duration such as 1h or 30m.");
            }
            result.Add(new NamespaceOptions
            {
                Name = name,
                HistorySize = HistorySize(),
                HistoryTtl = HistoryTtl(),
                AnonymousSubscribe = Flag("anonymous_subscribe", true),
                Private = Flag("private", false),
                ClientPublish = Flag("client_publish", name.Length == 0 && Bool("client_publish")),
                UserLimited = Flag("user_limited", true),
                Presence = Flag("presence", Bool("presence")),
                JoinLeave = Flag("join_leave", Bool("join_leave")),
                JoinLeavePerUser = Flag("join_leave_per_user", true),
            });
        }
        return result;
    }

    /// <summary>The Pusher apps of <paramref name="key"/>, with the default app named by <paramref name="defaultKey"/>, checked as a whole.</summary>
    public Core.Apps.AppRegistry Apps(string key, string defaultKey)
    {
        var entry = _entries[key];
        var apps = AppsSetting.Parse(key, entry.Value, entry.Origin);
        var defaultEntry = _entries[defaultKey];
        try
        {
            return new Core.Apps.AppRegistry(apps, NullIfBlank(defaultEntry.Value));
        }
        catch (ArgumentException ex)
        {
            var origin = ex.Message.StartsWith(defaultKey, StringComparison.Ordinal) ? $"setting '{defaultKey}' (from {defaultEntry.Origin})" : $"setting '{key}' (from {entry.Origin})";
            throw new ConfigException($"Invalid {origin}: {ex.Message}.");
        }
    }

    private static string? NullIfBlank(string value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>A PEM public key given inline or as a path to a file; checked so a bad key stops the start.</summary>
    public string? PublicKey(string key)
    {
        var entry = _entries[key];
        var value = entry.Value.Trim();
        if (value.Length == 0)
        {
            return null;
        }
        var pem = value;
        if (!value.Contains("-----BEGIN", StringComparison.Ordinal))
        {
            if (!File.Exists(value))
            {
                throw new ConfigException($"Setting '{key}' (from {entry.Origin}): '{value}' is neither PEM text nor an existing file.");
            }
            pem = File.ReadAllText(value);
        }
        try
        {
            JwtTokenVerifier.ReadPublicKey(pem);
        }
        catch (ArgumentException ex)
        {
            throw new ConfigException($"Setting '{key}' (from {entry.Origin}): {ex.Message}.");
        }
        return pem;
    }

    /// <summary>An absolute http(s) URL, or null when empty.</summary>
    public Uri? Url(string key)
    {
        var entry = _entries[key];
        if (string.IsNullOrWhiteSpace(entry.Value))
        {
            return null;
        }
        if (Uri.TryCreate(entry.Value.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
        {
            return uri;
        }
        throw Invalid(key, entry, "an absolute http or https URL");
    }

    /// <summary>Addresses and CIDR ranges, each checked.</summary>
    public IReadOnlyList<string> Cidrs(string key)
    {
        var entry = _entries[key];
        var list = List(key);
        foreach (var item in list)
        {
            var slash = item.IndexOf('/', StringComparison.Ordinal);
            var address = slash < 0 ? item : item[..slash];
            if (!IPAddress.TryParse(address, out var ip)
                || (slash >= 0 && (!int.TryParse(item[(slash + 1)..], out var bits) || bits < 0 || bits > (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128))))
            {
                throw Invalid(key, entry, $"addresses or CIDR ranges such as 127.0.0.0/8, ::1 or 10.0.0.0/8 ('{item}' is neither)");
            }
        }
        return list;
    }

    private static JsonDocument ParseJson(string key, Entry entry)
    {
        try
        {
            var document = JsonDocument.Parse(entry.Value);
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                document.Dispose();
                throw new ConfigException($"Setting '{key}' (from {entry.Origin}) must be a JSON array.");
            }
            return document;
        }
        catch (JsonException ex)
        {
            throw new ConfigException($"Setting '{key}' (from {entry.Origin}) is not valid JSON: {ex.Message}");
        }
    }

    public int Int(string key, int min, int max)
    {
        var entry = _entries[key];
        if (!int.TryParse(entry.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw Invalid(key, entry, $"a whole number from {min} to {max}");
        }
        return value;
    }

    public bool Bool(string key)
    {
        var entry = _entries[key];
        return entry.Value.Trim().ToLowerInvariant() switch
        {
            "true" or "1" or "yes" or "on" => true,
            "false" or "0" or "no" or "off" => false,
            _ => throw Invalid(key, entry, "true or false"),
        };
    }

    public long Size(string key, long min, long max)
    {
        var entry = _entries[key];
        if (!Settings.TryParseSize(entry.Value, out var value) || value < min || value > max)
        {
            throw Invalid(key, entry, $"a size from {min} to {max} bytes, such as 65536, 64KiB or 8MiB");
        }
        return value;
    }

    public TimeSpan Duration(string key, TimeSpan min, TimeSpan max)
    {
        var entry = _entries[key];
        if (!Settings.TryParseDuration(entry.Value, out var value) || value < min || value > max)
        {
            throw Invalid(key, entry, $"a duration from {min.TotalSeconds}s to {max.TotalSeconds}s, such as 25s, 500ms or 2m");
        }
        return value;
    }

    public string Address(string key)
    {
        var entry = _entries[key];
        var text = entry.Value.Trim();
        if (text is "localhost" or "*" or "+" || IPAddress.TryParse(text.Trim('[', ']'), out _))
        {
            return text;
        }
        throw Invalid(key, entry, "an IP address such as 0.0.0.0, 127.0.0.1 or ::, or localhost");
    }

    public T Enum<T>(string key) where T : struct, Enum
    {
        var entry = _entries[key];
        if (System.Enum.TryParse<T>(entry.Value.Trim(), ignoreCase: true, out var value) && System.Enum.IsDefined(value) && !int.TryParse(entry.Value, out _))
        {
            return value;
        }
        throw Invalid(key, entry, string.Join(", ", System.Enum.GetNames<T>().Select(n => n.ToLowerInvariant())));
    }

    private static ConfigException Invalid(string key, Entry entry, string expected)
    {
        var definition = Settings.Find(key)!;
        var shown = definition.Secret ? "(hidden)" : $"'{entry.Value}'";
        return new ConfigException($"Invalid value {shown} for setting '{key}' (from {entry.Origin}): expected {expected}.");
    }
}
