using System.Net;
using Herald.Core;
using Herald.Core.Auth;
using Herald.Sqlite;
using Herald.Redis;
using Herald.Core.Engine;
using Herald.Server.Api;
using Herald.Server.Demo;
using Herald.Server.Ingress;
using Herald.Server.Logging;
using Herald.Server.Transports;
using Herald.Server.Transports.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald.Server;

/// <summary>
/// A running Herald: Kestrel for WebSocket and HTTP, UDP ingress, and the node between them. Used by the
/// <c>herald serve</c> command and by tests, which start it on free loopback ports.
/// </summary>
public sealed class HeraldServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ILogger _logger;
    private volatile bool _ready;
    private volatile bool _stopping;
    private Task? _shutdown;

    private HeraldServer(WebApplication app, HeraldServerOptions options)
    {
        _app = app;
        Options = options;
        Node = app.Services.GetRequiredService<Node>();
        Udp = app.Services.GetRequiredService<UdpIngress>();
        _logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Herald");
    }

    /// <summary>The options the server runs with.</summary>
    public HeraldServerOptions Options { get; }

    /// <summary>The node routing messages.</summary>
    public Node Node { get; }

    /// <summary>UDP ingress (not bound when disabled).</summary>
    public UdpIngress Udp { get; }

    /// <summary>Addresses whose open WebSockets count against max_connections_per_ip now (diagnostics and tests).</summary>
    internal int CountedAddresses => _app.Services.GetRequiredService<WebSocketAdmission>().CountedAddresses;

    /// <summary>The WebSocket/HTTP endpoint actually bound.</summary>
    public IPEndPoint HttpEndPoint { get; private set; } = new(IPAddress.None, 0);

    /// <summary>Completes when the host has stopped (after a signal or <see cref="StopAsync"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellation = default) => _app.WaitForShutdownAsync(cancellation);

    /// <summary>
    /// Builds and starts a server. <paramref name="extraLoggers"/> receive every log event too (tests use this to fail
    /// on unexpected errors). Throws <see cref="HeraldStartupException"/> with an actionable message when it cannot bind.
    /// </summary>
    public static async Task<HeraldServer> StartAsync(HeraldServerOptions options, IEnumerable<ILoggerProvider>? extraLoggers = null, CancellationToken cancellation = default)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        ConfigureLogging(builder.Logging, options, extraLoggers);
        var httpAddress = HostAddress.Parse(options.Host, "host");
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.Node.MaxMessageSize + 1;
            kestrel.Listen(httpAddress, options.Port);
        });
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = options.ShutdownTimeout + TimeSpan.FromSeconds(5));
        // One clock for the whole server: every elapsed time and wall-clock reading goes through it.
        var time = TimeProvider.System;
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(options.Node);
        builder.Services.AddSingleton<ITokenVerifier>(_ => new JwtTokenVerifier(options.Token, options.Node.MaxAttributes, time: time));
        var stores = new EngineStores();
        builder.Services.AddSingleton(stores);
        builder.Services.AddSingleton(sp => new Node(options.Node, sp.GetRequiredService<ILogger<Node>>(), stores.Redis is { } redis
                ? new NodeEngine
                {
                    History = redis.History, Inbox = redis.Inbox, Presence = redis.Presence, Broker = redis.Broker,
                    Idempotency = redis.Idempotency, NodeId = redis.NodeId,
                }
                : new NodeEngine { History = stores.Sqlite?.History, Inbox = stores.Sqlite?.Inbox },
            time, sp.GetRequiredService<ITokenVerifier>()));
        builder.Services.AddSingleton<UdpIngress>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<UdpIngress>());
        builder.Services.AddSingleton(new ApiKeyCheck(options.ApiKeys));
        builder.Services.AddSingleton<HttpApi>();
        builder.Services.AddSingleton<Pusher.PusherApi>();
        builder.Services.AddSingleton<WebSocketAdmission>();
        builder.Services.AddSingleton<HttpUpgradeEndpoint>();
        // Herald's own listener under Kestrel: WebSocket upgrades stay on the bare socket (issue 8: memory and CPU per
        // connection), every other connection goes on to Kestrel.
        builder.Services.AddSingleton<IConnectionListenerFactory, DirectListenerFactory>();

        var app = builder.Build();
        // The embedded default keeps history and inboxes in SQLite under data_dir; --memory keeps them in memory; engine
        // redis shares everything with the other nodes on that Redis.
        if (options.Redis is not null)
        {
            try
            {
                stores.Redis = await RedisEngine.ConnectAsync(options.Redis, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<RedisEngine>(), time).ConfigureAwait(false);
            }
            catch (ArgumentException ex)
            {
                await app.DisposeAsync().ConfigureAwait(false);
                throw new HeraldStartupException(ex.Message, ex);
            }
            var node = app.Services.GetRequiredService<Node>();
            stores.Redis.CountConnectionsWith(() => node.ConnectionCount);
            var joining = time.GetTimestamp();
            while (true)
            {
                try
                {
                    await node.BrokerReadyAsync().ConfigureAwait(false);
                    break;
                }
                catch (StoreUnavailableException ex)
                {
                    // Redis answers but refused the subscription (its pub/sub link comes up a moment after the first
                    // one, later on a busy machine): the node tries again every half second; wait a little for it, or the
                    // node would start without the cluster's broadcast and miss what is published to it meanwhile.
                    if (node.BrokerConnected && time.GetElapsedTime(joining) < TimeSpan.FromSeconds(5))
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(100), time).ConfigureAwait(false);
                        continue;
                    }
                    // Redis is not there: the node starts anyway, serves its local connections and joins once Redis is back.
                    ServerLog.EngineNotReady(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<HeraldServer>(), ex.Message);
                    break;
                }
            }
        }
        else if (options.DataDirectory is not null)
        {
            try
            {
                stores.Sqlite = SqliteStore.Open(options.DataDirectory, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<SqliteStore>(), time);
            }
            catch (SqliteStoreException ex)
            {
                await app.DisposeAsync().ConfigureAwait(false);
                throw new HeraldStartupException(ex.Message, ex);
            }
        }
        var server = new HeraldServer(app, options);
        server.MapEndpoints();
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        // Stopping fires before Kestrel drains: tell clients to reconnect first, so their closes are what it waits for.
        lifetime.ApplicationStopping.Register(() => server._shutdown ??= server.ShutdownConnectionsAsync());
        try
        {
            await app.StartAsync(cancellation).ConfigureAwait(false);
        }
        catch (HeraldStartupException)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            stores.Sqlite?.Dispose();
            if (stores.Redis is not null)
            {
                await stores.Redis.DisposeAsync().ConfigureAwait(false);
            }
            throw;
        }
        catch (IOException ex) when (ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException || ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            await app.DisposeAsync().ConfigureAwait(false);
            stores.Sqlite?.Dispose();
            if (stores.Redis is not null)
            {
                await stores.Redis.DisposeAsync().ConfigureAwait(false);
            }
            throw new HeraldStartupException(
                $"Port {options.Port} on {options.Host} is already in use: stop the other process or choose another port (setting port, flag --port).", ex);
        }
        server.HttpEndPoint = server.ResolveHttpEndPoint(httpAddress);
        if (options.Token.Secret is { Length: > 0 and < 32 })
        {
            ServerLog.WeakTokenSecret(server._logger);
        }
        var udp = server.Udp.LocalEndPoint?.ToString();
        if (udp is null)
        {
            ServerLog.ListeningWithoutUdp(server._logger, ServerInfo.Version, server.HttpEndPoint.ToString());
        }
        else
        {
            ServerLog.Listening(server._logger, ServerInfo.Version, server.HttpEndPoint.ToString(), udp);
        }
        server._ready = true;
        return server;
    }

    /// <summary>Stops the server gracefully: clients are told to reconnect, then the host stops.</summary>
    public async Task StopAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        if (_shutdown is not null)
        {
            await _shutdown.ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        Node.Dispose();
        var stores = _app.Services.GetRequiredService<EngineStores>();
        await _app.DisposeAsync().ConfigureAwait(false);
        if (stores.Sqlite is { } store)
        {
            await store.DisposeAsync().ConfigureAwait(false); // after the host: no publish is in flight any more
        }
        if (stores.Redis is { } redis)
        {
            await redis.DisposeAsync().ConfigureAwait(false); // leaves the registry; other nodes drop this node's presence
        }
    }

    private Task ShutdownConnectionsAsync()
    {
        _ready = false;
        _stopping = true;
        ServerLog.ShuttingDown(_logger, Node.ConnectionCount);
        Udp.Dispose();
        return Node.ShutdownAsync(Options.ShutdownTimeout);
    }

    private void MapEndpoints()
    {
        // Only to recognise a WebSocket request; Herald answers the handshake itself (HttpUpgradeEndpoint).
        _app.UseWebSockets();
        var websockets = _app.Services.GetRequiredService<HttpUpgradeEndpoint>();
        var api = _app.Services.GetRequiredService<HttpApi>();
        _app.Use((context, next) =>
            context.WebSockets.IsWebSocketRequest && !context.Request.Path.StartsWithSegments("/api")
                ? websockets.HandleAsync(context)
                : next(context));
        _app.Map("/api/{method}", api.HandleAsync);
        _app.Map("/apps/{appId}/{**rest}", _app.Services.GetRequiredService<Pusher.PusherApi>().HandleAsync);
        _app.MapGet("/health", async context =>
        {
            context.Response.ContentType = "application/json";
            context.Response.StatusCode = _ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
            // A storage failure degrades the node (publishes to channels with history answer 503) but live delivery
            // goes on, so health stays 200 and says "degraded" rather than taking the node out of a load balancer.
            // So does losing the cluster's Redis: local connections stay served, publishes answer 503 until it is back.
            var storeError = Node.StoreError;
            var engine = _app.Services.GetRequiredService<EngineStores>();
            var brokerDown = !Node.BrokerConnected;
            var status = !_ready ? (_stopping ? "stopping" : "starting") : storeError is null && !brokerDown ? "ok" : "degraded";
            var engineState = engine.Redis is null ? engine.Name : engine.Name + (brokerDown ? ": disconnected" : ": connected");
            await context.Response.WriteAsync(System.Text.Json.JsonSerializer.Serialize(
                new HealthReply(status, Node.ConnectionCount, ServerInfo.Version, storeError is null ? "ok" : "error: " + storeError, engineState),
                ApiJsonContext.Relaxed.HealthReply)).ConfigureAwait(false);
        });
        _app.MapGet("/demo", DemoPage.WriteAsync);
        _app.MapGet("/", static context =>
        {
            context.Response.ContentType = "text/plain; charset=utf-8";
            return context.Response.WriteAsync(
                $"Herald {ServerInfo.Version}: connect with WebSocket to this address; publish with POST /api/publish or a UDP datagram. " +
                "A demo page: GET /demo.\n");
        });
    }

    private IPEndPoint ResolveHttpEndPoint(IPAddress configured)
    {
        var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        foreach (var address in addresses ?? [])
        {
            if (Uri.TryCreate(address, UriKind.Absolute, out var uri))
            {
                return new IPEndPoint(configured, uri.Port);
            }
        }
        return new IPEndPoint(configured, Options.Port);
    }

    private static void ConfigureLogging(ILoggingBuilder logging, HeraldServerOptions options, IEnumerable<ILoggerProvider>? extra)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(options.LogLevel);
        // Framework chatter is not what a push server's operator wants to read.
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        // Nothing of the per-request hosting diagnostics is logged, so ASP.NET creates no request Activity or log scope
        // for each WebSocket: about 1 KiB less memory per idle connection (issue 8 measurement).
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        // A failed start is reported once, by Herald, with the setting to change; not also as a framework stack trace.
        logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.Critical);
        if (options.ConsoleLog)
        {
            logging.AddSimpleConsole(c =>
            {
                c.SingleLine = true;
                c.TimestampFormat = "yyyy-MM-dd HH:mm:ss ";
            });
        }
        if (options.LogFile is not null)
        {
            logging.AddProvider(new FileLoggerProvider(options.LogFile));
        }
        foreach (var provider in extra ?? [])
        {
            logging.AddProvider(provider);
        }
    }
}

/// <summary>The storage engines a server was opened with (null members: memory).</summary>
internal sealed class EngineStores
{
    public SqliteStore? Sqlite { get; set; }

    public RedisEngine? Redis { get; set; }

    /// <summary>Which engine runs: redis, sqlite or memory.</summary>
    public string Name => Redis is not null ? "redis" : Sqlite is not null ? "sqlite" : "memory";
}
