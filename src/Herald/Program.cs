using System.Collections;
using System.CommandLine;
using System.Net.Sockets;
using Herald.Configuration;
using Herald.Server;

namespace Herald;

/// <summary>
/// The <c>herald</c> command line: <c>serve</c> runs the server, <c>config</c> prints the effective settings,
/// <c>token</c> mints and checks tokens, <c>version</c> says which build this is.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var settingOptions = new SettingOptions();
        var serve = new Command("serve", "Run the Herald push server (WebSocket + HTTP on 0.0.0.0:6552, UDP ingress on 127.0.0.1:6553 by default).");
        var config = new Command("config", "Print the effective configuration (defaults, config file, HERALD_* environment, flags), secrets masked.");
        settingOptions.AddTo(serve);
        settingOptions.AddTo(config);
        serve.SetAction((parse, cancellation) => ServeAsync(settingOptions, parse));
        config.SetAction(parse => PrintConfig(settingOptions, parse));

        var root = new RootCommand("Herald: a self-hosted real-time push server.") { serve, config, TokenCommand.Create(settingOptions), VersionCommand.Create() };
        var parsed = root.Parse(args);
        // The host handles SIGTERM/SIGINT itself (graceful shutdown); the parser must not exit the process early.
        var exit = await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }).ConfigureAwait(false);
        // A mistyped flag is a configuration error like a bad value (exit 2); 1 stays "could not start".
        return parsed.Errors.Count > 0 ? 2 : exit;
    }

    private static async Task<int> ServeAsync(SettingOptions settingOptions, ParseResult parse)
    {
        if (!TryLoad(settingOptions, parse, out _, out var options))
        {
            return 2;
        }
        if (options.LogFile is not null && !CanAppend(options.LogFile, out var logFileError))
        {
            await Console.Error.WriteLineAsync($"herald: cannot open the log file '{options.LogFile}' (setting log_file, flag --log-file): {logFileError}").ConfigureAwait(false);
            return 1;
        }
        HeraldServer server;
        try
        {
            server = await HeraldServer.StartAsync(options).ConfigureAwait(false);
        }
        catch (HeraldStartupException ex)
        {
            await Console.Error.WriteLineAsync("herald: " + ex.Message).ConfigureAwait(false);
            return 1;
        }
        catch (Exception ex) when (ex is IOException or SocketException or UnauthorizedAccessException)
        {
            // Binding can fail for more than a busy port (an address this host does not have, a privileged port):
            // say what was being bound and which settings to change, not a stack trace.
            await Console.Error.WriteLineAsync(
                $"herald: cannot start: {ex.Message} (WebSocket and HTTP on {options.Host}:{options.Port}, UDP ingress on " +
                $"{(options.UdpEnabled ? $"{options.UdpHost}:{options.UdpPort}" : "disabled")}); check settings host, port, udp_host, udp_port " +
                "(flags --host, --port, --udp-host, --udp-port).").ConfigureAwait(false);
            return 1;
        }
        using var systemd = SystemdNotify.FromEnvironment();
        await using (server.ConfigureAwait(false))
        {
            systemd.Ready($"Listening on {server.HttpEndPoint}");
            await server.WaitForShutdownAsync().ConfigureAwait(false);
        }
        return 0;
    }

    private static bool CanAppend(string path, out string error)
    {
        try
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }
            using (new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite))
            {
            }
            error = "";
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            error = ex.Message;
            return false;
        }
    }

    private static int PrintConfig(SettingOptions settingOptions, ParseResult parse)
    {
        if (!TryLoad(settingOptions, parse, out var settings, out _))
        {
            return 2;
        }
        var width = Settings.All.Max(d => d.Key.Length);
        foreach (var definition in Settings.All)
        {
            var entry = settings.Entries[definition.Key];
            var value = !definition.Secret ? entry.Value
                : definition.Key == "apps" ? MaskApps(settings.Apps("apps", "default_app"))
                : definition.List ? Mask(settings.ApiKeys(definition.Key).Count)
                : entry.Value.Length == 0 ? "(none)" : "(set, hidden)";
            Console.WriteLine($"{definition.Key.PadRight(width)} = {value,-16} # {entry.Origin}");
        }
        return 0;
    }

    private static string Mask(int count) =>
        count == 0 ? "(none)" : $"(set: {count} key{(count == 1 ? "" : "s")}, hidden)";

    /// <summary>Each app by id and key, never its secret.</summary>
    private static string MaskApps(Herald.Core.Apps.AppRegistry apps) =>
        apps.All.Count == 0 ? "(none)" : string.Join(", ", apps.All.Select(a => $"{a.Id} (key {a.Key}, secret hidden)"));

    /// <summary>The process environment as a dictionary (the HERALD_* layer of the settings).</summary>
    public static Dictionary<string, string> EnvironmentVariables()
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            environment[(string)variable.Key] = (string?)variable.Value ?? "";
        }
        return environment;
    }

    private static bool TryLoad(SettingOptions settingOptions, ParseResult parse, out EffectiveSettings settings, out HeraldServerOptions options)
    {
        try
        {
            settings = EffectiveSettings.Load(parse.GetValue(settingOptions.Config), EnvironmentVariables(), settingOptions.Overrides(parse));
            options = Settings.ToOptions(settings);
            return true;
        }
        catch (ConfigException ex)
        {
            Console.Error.WriteLine("herald: " + ex.Message);
            settings = null!;
            options = null!;
            return false;
        }
    }
}
