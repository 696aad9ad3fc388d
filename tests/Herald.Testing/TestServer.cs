using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Herald.Core;
using Herald.Protocol;
using Herald.Server;
using Microsoft.Extensions.Logging;

namespace Herald.Testing;

/// <summary>
/// The real Herald server, in process, on free loopback ports (WebSocket/HTTP and UDP), with its logs captured.
/// Disposing it stops the server and fails the test if the server logged an error the test did not expect.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly List<WsClient> _clients = [];
    private readonly UdpClient _udp = new(AddressFamily.InterNetwork);

    private TestServer(HeraldServer server, CapturedLogs logs)
    {
        Server = server;
        Logs = logs;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.HttpEndPoint.Port}/"), Timeout = Timeouts.Default };
    }

    public HeraldServer Server { get; }

    public Node Node => Server.Node;

    public CapturedLogs Logs { get; }

    public HttpClient Http { get; }

    public Uri WebSocketUri => new($"ws://127.0.0.1:{Server.HttpEndPoint.Port}/");

    public int UdpPort => Server.Udp.LocalEndPoint!.Port;

    public static async Task<TestServer> StartAsync(Func<HeraldServerOptions, HeraldServerOptions>? configure = null)
    {
        var options = new HeraldServerOptions
        {
            Host = "127.0.0.1",
            Port = 0,
            UdpHost = "127.0.0.1",
            UdpPort = 0,
            ConsoleLog = false,
            LogLevel = LogLevel.Debug,
            ShutdownTimeout = TimeSpan.FromSeconds(3),
        };
        options = configure?.Invoke(options) ?? options;
        var logs = new CapturedLogs();
        var server = await HeraldServer.StartAsync(options, [logs]).DefaultTimeout();
        return new TestServer(server, logs);
    }

    /// <summary>A plain client (no subprotocol), optionally announcing attributes; returns once they are applied.</summary>
    public async Task<WsClient> ConnectPlainAsync(string? attributes = null)
    {
        var client = await WsClient.ConnectAsync(WebSocketUri);
        _clients.Add(client);
        if (attributes is not null)
        {
            await SetPlainAttributesAsync(client, attributes);
        }
        return client;
    }

    /// <summary>Sends attributes, then a ping, and waits for the pong: the attributes are applied in order before it.</summary>
    public static async Task SetPlainAttributesAsync(WsClient client, string attributes)
    {
        await client.SendAsync(attributes);
        await client.SendAsync("ping");
        Assert.Equal("pong", await client.ReceiveAsync());
    }

    /// <summary>A native (herald.v1) client; with <paramref name="connect"/> it has sent connect and read the reply.</summary>
    public async Task<WsClient> ConnectNativeAsync(string? attributes = null, bool connect = true)
    {
        var client = await WsClient.ConnectAsync(WebSocketUri, ProtocolNames.SubprotocolV1);
        _clients.Add(client);
        if (connect)
        {
            var reply = await CallAsync(client, 1, "connect", attributes is null ? null : $$"""{"attrs":{{attributes}}}""");
            Assert.True(reply.TryGetProperty("result", out _), reply.ToString());
        }
        return client;
    }

    /// <summary>Sends a command and returns its reply (skipping pushes).</summary>
    public static async Task<JsonElement> CallAsync(WsClient client, ulong id, string method, string? parameters = null)
    {
        var command = parameters is null
            ? $$"""{"id":{{id}},"method":"{{method}}"}"""
            : $$"""{"id":{{id}},"method":"{{method}}","params":{{parameters}}}""";
        await client.SendAsync(command);
        return await client.ReceiveJsonUntilAsync(m => m.TryGetProperty("id", out var i) && i.GetUInt64() == id);
    }

    public async Task SendUdpAsync(string datagram) => await SendUdpAsync(Encoding.UTF8.GetBytes(datagram));

    public async Task SendUdpAsync(byte[] datagram) =>
        await _udp.SendAsync(datagram, new IPEndPoint(IPAddress.Loopback, UdpPort)).AsTask().DefaultTimeout();

    /// <summary>Sends a datagram and waits until the server has read it (so drops and routing are done).</summary>
    public async Task SendUdpAndWaitAsync(string datagram)
    {
        var before = Server.Udp.Received;
        await SendUdpAsync(datagram);
        await Timeouts.Until(() => Server.Udp.Received > before, "the datagram was received");
    }

    public async Task<HttpResponseMessage> PostApiAsync(string method, string body, string? apiKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/" + method)
        {
            Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        if (apiKey is not null)
        {
            request.Headers.Add("X-API-Key", apiKey);
        }
        return await Http.SendAsync(request).DefaultTimeout();
    }

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }
        await Server.DisposeAsync().AsTask().DefaultTimeout(TimeSpan.FromSeconds(30));
        _udp.Dispose();
        Http.Dispose();
        Logs.AssertNoUnexpectedErrors();
    }
}
