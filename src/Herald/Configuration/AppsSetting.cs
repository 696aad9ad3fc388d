using System.Globalization;
using System.Text.Json;
using Herald.Core.Apps;

namespace Herald.Configuration;

/// <summary>
/// Reads the <c>apps</c> setting (a JSON array of app objects, as issue 17 pins it) and the <c>--app ID:KEY:SECRET</c>
/// shorthand. Every error names the setting, where its value came from, the app and what is allowed.
/// </summary>
internal static class AppsSetting
{
    private static readonly string[] Options =
    [
        "id", "key", "secret", "client_events", "user_authentication_required", "max_connections", "max_event_size_kb",
        "max_channels_per_event", "max_events_per_batch", "webhooks", "allowed_origins", "enabled",
    ];

    /// <summary>The apps of a JSON array of objects; empty text: none.</summary>
    public static IReadOnlyList<AppOptions> Parse(string key, string value, string origin)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return [];
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(value, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            throw new ConfigException($"Setting '{key}' (from {origin}) is not valid JSON: {ex.Message}. Expected an array such as " +
                "[{\"id\":\"app-id\",\"key\":\"app-key\",\"secret\":\"app-secret\"}].");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new ConfigException($"Setting '{key}' (from {origin}) must be a JSON array of app objects such as " +
                    "[{\"id\":\"app-id\",\"key\":\"app-key\",\"secret\":\"app-secret\"}].");
            }
            var apps = new List<AppOptions>();
            var index = 0;
            foreach (var element in document.RootElement.EnumerateArray())
            {
                index++;
                apps.Add(ReadApp(element, new Context(key, origin, index)));
            }
            return apps;
        }
    }

    /// <summary>The apps of the <c>--app</c> flag as the JSON array the <c>apps</c> setting takes (client events off).</summary>
    public static string FromFlags(IReadOnlyList<string> flags)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartArray();
            foreach (var flag in flags)
            {
                // The secret is the rest after the second colon: a secret may hold colons, ids and keys cannot.
                var parts = flag.Split(':', 3);
                if (parts.Length != 3 || parts.Any(p => p.Length == 0))
                {
                    throw new ConfigException("--app takes ID:KEY:SECRET, e.g. --app my-app:my-key:my-secret (a value was not of that form).");
                }
                writer.WriteStartObject();
                writer.WriteString("id", parts[0]);
                writer.WriteString("key", parts[1]);
                writer.WriteString("secret", parts[2]);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private readonly record struct Context(string Key, string Origin, int Index)
    {
        public ConfigException Error(string app, string message) =>
            new($"Setting '{Key}' (from {Origin}): {(app.Length > 0 ? $"app '{app}'" : $"app #{Index}")}: {message}.");
    }

    private static AppOptions ReadApp(JsonElement element, Context context)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw context.Error("", "each app must be an object such as {\"id\":\"app-id\",\"key\":\"app-key\",\"secret\":\"app-secret\"}");
        }
        var id = Identifier(element, "id", context, "");
        foreach (var property in element.EnumerateObject())
        {
            if (!Options.Contains(property.Name))
            {
                throw context.Error(id, $"unknown option '{property.Name}'; options are {string.Join(", ", Options)}");
            }
        }
        var key = Identifier(element, "key", context, id);
        if (!element.TryGetProperty("secret", out var secret) || secret.ValueKind != JsonValueKind.String || secret.GetString()!.Length == 0)
        {
            throw context.Error(id, "\"secret\" must be a non-empty string");
        }
        return new AppOptions
        {
            Id = id,
            Key = key,
            Secret = secret.GetString()!,
            ClientEvents = Flag(element, "client_events", false, context, id),
            UserAuthenticationRequired = Flag(element, "user_authentication_required", false, context, id),
            MaxConnections = Number(element, "max_connections", 0, 0, 100_000_000, context, id),
            MaxEventSizeKb = Number(element, "max_event_size_kb", 10, 1, 16 * 1024, context, id),
            MaxChannelsPerEvent = Number(element, "max_channels_per_event", 100, 1, 10_000, context, id),
            MaxEventsPerBatch = Number(element, "max_events_per_batch", 10, 1, 10_000, context, id),
            Webhooks = Webhooks(element, context, id),
            AllowedOrigins = Strings(element, "allowed_origins", context, id),
            Enabled = Flag(element, "enabled", true, context, id),
        };
    }

    /// <summary>An id or key: a string (or a whole number, as Pusher's numeric app ids are often written) following the identifier rule.</summary>
    private static string Identifier(JsonElement element, string name, Context context, string id)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            throw context.Error(id, $"\"{name}\" is missing; it must be {AppOptions.IdentifierRule}");
        }
        var text = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString()!,
            JsonValueKind.Number when value.TryGetInt64(out var n) && n >= 0 => n.ToString(CultureInfo.InvariantCulture),
            _ => null,
        };
        return AppOptions.IsValidIdentifier(text)
            ? text!
            : throw context.Error(id, $"\"{name}\" ({value.GetRawText()}) must be {AppOptions.IdentifierRule}");
    }

    private static bool Flag(JsonElement element, string name, bool fallback, Context context, string id)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return fallback;
        }
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw context.Error(id, $"option '{name}' must be true or false"),
        };
    }

    private static int Number(JsonElement element, string name, int fallback, int min, int max, Context context, string id)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return fallback;
        }
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n >= min && n <= max
            ? n
            : throw context.Error(id, $"option '{name}' must be a whole number from {min} to {max}");
    }

    private static IReadOnlyList<string> Strings(JsonElement element, string name, Context context, string id)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return [];
        }
        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String || e.GetString()!.Length == 0))
        {
            throw context.Error(id, $"option '{name}' must be an array of non-empty strings");
        }
        return [.. value.EnumerateArray().Select(e => e.GetString()!)];
    }

    private static IReadOnlyList<AppWebhook> Webhooks(JsonElement element, Context context, string id)
    {
        if (!element.TryGetProperty("webhooks", out var value))
        {
            return [];
        }
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw context.Error(id, "option 'webhooks' must be an array of {\"url\":\"https://...\",\"event_types\":[...]} objects");
        }
        var hooks = new List<AppWebhook>();
        foreach (var hook in value.EnumerateArray())
        {
            if (hook.ValueKind != JsonValueKind.Object || !hook.TryGetProperty("url", out var url) || url.ValueKind != JsonValueKind.String
                || !Uri.TryCreate(url.GetString(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                throw context.Error(id, "each webhook must be an object with \"url\", an absolute http or https URL");
            }
            hooks.Add(new AppWebhook(uri, Strings(hook, "event_types", context, id)));
        }
        return hooks;
    }
}
