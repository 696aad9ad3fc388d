using Herald.Core.Apps;
using Herald.Core.Auth;

namespace Herald.Server.Tests.Pusher;

/// <summary>Servers with Pusher apps, and native (herald.v1) clients as receivers.</summary>
internal static class PusherTestServers
{
    public const string TokenSecret = "pusher-api-tests-secret-0123456789abcdef";

    public static readonly AppOptions Shop = new() { Id = "shop", Key = "shop-key", Secret = "shop-secret" };
    public static readonly AppOptions Blog = new() { Id = "blog", Key = "blog-key", Secret = "blog-secret" };
    public static readonly AppOptions Main = new() { Id = "main", Key = "main-key", Secret = "main-secret" };
    public static readonly AppOptions Closed = new() { Id = "closed", Key = "closed-key", Secret = "closed-secret", Enabled = false };

    /// <summary>Apps shop, blog, closed (disabled) and main, the default app.</summary>
    public static Task<TestServer> StartAsync(Func<AppOptions, AppOptions>? configure = null) =>
        TestServer.StartAsync(o => o with
        {
            Apps = new AppRegistry(new[] { Shop, Blog, Closed, Main }.Select(a => configure?.Invoke(a) ?? a), Main.Id),
            Token = new TokenOptions { Secret = TokenSecret },
        });

    /// <summary>A native client of <paramref name="user"/> (anonymous when null) subscribed to <paramref name="channels"/>.</summary>
    public static async Task<WsClient> SubscriberAsync(TestServer server, string? user, params string[] channels)
    {
        var client = await server.ConnectNativeAsync(connect: false);
        var connect = user is null ? "{}" : "{\"token\":\"" + TokenIssuer.Create(TokenSecret, user, TimeSpan.FromHours(1)) + "\"}";
        var reply = await TestServer.CallAsync(client, 1, "connect", connect);
        Assert.True(reply.TryGetProperty("result", out _), reply.ToString());
        ulong id = 2;
        foreach (var channel in channels)
        {
            var subscribed = await TestServer.CallAsync(client, id++, "subscribe", "{\"channel\":\"" + channel + "\"}");
            Assert.True(subscribed.TryGetProperty("result", out _), subscribed.ToString());
        }
        return client;
    }
}
