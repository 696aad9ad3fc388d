using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Herald.Client;

/// <summary>
/// Publishes from a .NET backend: over HTTP (<c>POST /api/&lt;method&gt;</c>, with an API key, replies parsed) or as UDP
/// datagrams to the local ingress (fire and forget, signed when a UDP secret is set). Also the other API methods a
/// backend needs: history, inbox, presence, online, disconnect. Thread-safe; reuse one instance.
/// </summary>
public sealed class HeraldPublisher : IDisposable
{
    private readonly HttpClient _http;
    private readonly UdpClient _udp = new(AddressFamily.InterNetwork);
    private readonly IPEndPoint? _udpTarget;
    private readonly byte[]? _udpSecret;

    /// <summary>
    /// Creates a publisher for the server at <paramref name="baseUrl"/> (e.g. <c>http://127.0.0.1:6552/</c>), with an
    /// optional API key, UDP ingress endpoint (e.g. 127.0.0.1:6553) and UDP signing secret.
    /// </summary>
    public HeraldPublisher(Uri baseUrl, string? apiKey = null, IPEndPoint? udp = null, string? udpSecret = null, HttpMessageHandler? handler = null)
    {
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.BaseAddress = baseUrl;
        if (apiKey is not null)
        {
            _http.DefaultRequestHeaders.Add("X-API-Key", apiKey);
        }
        _udpTarget = udp;
        _udpSecret = udpSecret is null ? null : Encoding.UTF8.GetBytes(udpSecret);
    }

    /// <summary>
    /// Publishes <paramref name="data"/> over HTTP. Targets: <c>channel</c>/<c>channels</c>, <c>user</c>/<c>users</c>,
    /// <c>where</c> (an object: key → value or array of values). Returns the reply (recipients, offset, epoch, ...).
    /// </summary>
    public Task<JsonElement> PublishAsync(JsonNode? data, string? channel = null, IEnumerable<string>? channels = null, string? user = null,
        IEnumerable<string>? users = null, JsonObject? where = null, string? idempotencyKey = null, CancellationToken cancellation = default) =>
        CallAsync("publish", Body(data, channel, channels, user, users, where, idempotencyKey), cancellation);

    /// <summary>Publishes as one UDP datagram (no reply; signed when a UDP secret was given).</summary>
    public async Task SendUdpAsync(JsonNode? data, string? channel = null, IEnumerable<string>? channels = null, string? user = null,
        IEnumerable<string>? users = null, JsonObject? where = null, string? idempotencyKey = null, CancellationToken cancellation = default)
    {
        var target = _udpTarget ?? throw new InvalidOperationException("no UDP endpoint was given to the publisher");
        var body = Body(data, channel, channels, user, users, where, idempotencyKey).ToJsonString();
        var datagram = _udpSecret is null
            ? body
            : "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(_udpSecret, Encoding.UTF8.GetBytes(body))) + "\n" + body;
        await _udp.SendAsync(Encoding.UTF8.GetBytes(datagram), target, cancellation).ConfigureAwait(false);
    }

    /// <summary>
    /// Publishes several bodies (each a full publish body: targets and data) over one kept-alive HTTP connection, in
    /// order; returns the replies. For fire-and-forget batches, send UDP datagrams instead.
    /// </summary>
    public async Task<IReadOnlyList<JsonElement>> PublishBatchAsync(IEnumerable<JsonObject> bodies, CancellationToken cancellation = default)
    {
        var replies = new List<JsonElement>();
        foreach (var body in bodies)
        {
            replies.Add(await CallAsync("publish", body, cancellation).ConfigureAwait(false));
        }
        return replies;
    }

    /// <summary>Calls any API method with a JSON body and returns the reply; errors throw <see cref="HeraldException"/>.</summary>
    public async Task<JsonElement> CallAsync(string method, JsonObject body, CancellationToken cancellation = default)
    {
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
        using var response = await _http.PostAsync("api/" + method, content, cancellation).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellation).ConfigureAwait(false);
        using var document = JsonDocument.Parse(text.Length == 0 ? "{}" : text);
        if (document.RootElement.TryGetProperty("error", out var error))
        {
            throw new HeraldException(error.GetProperty("code").GetInt32(), $"{error.GetProperty("message").GetString()} (HTTP {(int)response.StatusCode})");
        }
        return document.RootElement.Clone();
    }

    /// <summary>A channel's history: publications after <paramref name="since"/>, or the newest first.</summary>
    public Task<JsonElement> HistoryAsync(string channel, int limit = 100, ulong? since = null, bool newestFirst = false, CancellationToken cancellation = default) =>
        CallAsync("history", new JsonObject { ["channel"] = channel, ["limit"] = limit, ["since"] = since, ["newest_first"] = newestFirst }, cancellation);

    /// <summary>Which users are online and with how many connections.</summary>
    public Task<JsonElement> OnlineAsync(IEnumerable<string> users, CancellationToken cancellation = default) =>
        CallAsync("online", new JsonObject { ["users"] = new JsonArray([.. users.Select(u => (JsonNode?)u)]) }, cancellation);

    /// <summary>A page of a channel's presence (members with client, user and info); pass the returned cursor for the next.</summary>
    public Task<JsonElement> PresenceAsync(string channel, string? cursor = null, int limit = 100, CancellationToken cancellation = default) =>
        CallAsync("presence", new JsonObject { ["channel"] = channel, ["cursor"] = cursor, ["limit"] = limit }, cancellation);

    /// <summary>Connections and unique users in a channel.</summary>
    public Task<JsonElement> PresenceStatsAsync(string channel, CancellationToken cancellation = default) =>
        CallAsync("presence_stats", new JsonObject { ["channel"] = channel }, cancellation);

    /// <summary>Disconnects every connection of a user.</summary>
    public Task<JsonElement> DisconnectUserAsync(string user, bool reconnect = true, string? reason = null, CancellationToken cancellation = default) =>
        CallAsync("disconnect", new JsonObject { ["user"] = user, ["reconnect"] = reconnect, ["reason"] = reason }, cancellation);

    /// <summary>A user's unacknowledged inbox.</summary>
    public Task<JsonElement> InboxAsync(string user, CancellationToken cancellation = default) =>
        CallAsync("inbox", new JsonObject { ["user"] = user }, cancellation);

    /// <inheritdoc />
    public void Dispose()
    {
        _http.Dispose();
        _udp.Dispose();
    }

    private static JsonObject Body(JsonNode? data, string? channel, IEnumerable<string>? channels, string? user, IEnumerable<string>? users, JsonObject? where, string? idempotencyKey)
    {
        var body = new JsonObject();
        if (channel is not null)
        {
            body["channel"] = channel;
        }
        if (channels is not null)
        {
            body["channels"] = new JsonArray([.. channels.Select(c => (JsonNode?)c)]);
        }
        if (user is not null)
        {
            body["user"] = user;
        }
        if (users is not null)
        {
            body["users"] = new JsonArray([.. users.Select(u => (JsonNode?)u)]);
        }
        if (where is not null)
        {
            body["where"] = where.DeepClone();
        }
        if (idempotencyKey is not null)
        {
            body["idempotency_key"] = idempotencyKey;
        }
        body["data"] = data?.DeepClone();
        return body;
    }
}
