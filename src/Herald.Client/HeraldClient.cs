using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Herald.Protocol;

namespace Herald.Client;

/// <summary>
/// A native-protocol (herald.v1) client. After <see cref="ConnectAsync"/> it stays connected: when the connection
/// drops (or the server says "reconnect") it reconnects with exponential backoff and jitter, resubscribes every channel
/// with the last offset and epoch it saw, and replays what was missed (<see cref="Publication.Recovered"/>), or raises
/// <see cref="RecoveryFailed"/> when the gap cannot be closed so the app can reload. Every method is thread-safe.
/// </summary>
public sealed partial class HeraldClient : IAsyncDisposable
{
    private readonly HeraldClientOptions _options;
    private readonly ConcurrentDictionary<ulong, PendingCall> _pending = new();
    private readonly Channel<Publication> _publications = Channel.CreateUnbounded<Publication>();
    private readonly Channel<InboxEntry> _inbox = Channel.CreateUnbounded<InboxEntry>();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _disposed = new();
    private ClientWebSocket? _socket;
    private Task<int> _receiving = Task.FromResult(1000);
    private long _nextId;
    private Task _lifetime = Task.CompletedTask;
    private Timer? _refreshTimer;
    private TimeSpan _silence = Timeout.InfiniteTimeSpan;

    /// <summary>Creates a client; nothing happens until <see cref="ConnectAsync"/>.</summary>
    public HeraldClient(HeraldClientOptions options) => _options = options;

    /// <summary>This connection's id, once connected.</summary>
    public string? ClientId { get; private set; }

    /// <summary>The user of the token, once connected; empty for anonymous connections.</summary>
    public string? UserId { get; private set; }

    /// <summary>Whether a connection is open and connected right now.</summary>
    public bool IsConnected => _socket?.State == WebSocketState.Open && ClientId is not null;

    /// <summary>How many times the client reconnected.</summary>
    public int Reconnects { get; private set; }

    /// <summary>Raised with the channel name when missed publications could not be recovered: reload that channel's state.</summary>
    public event EventHandler<string>? RecoveryFailed;

    /// <summary>
    /// Raised when a channel could not be subscribed again after a reconnect because the server refused it (a private
    /// channel's subscription token expired, say); the client no longer tracks that channel.
    /// </summary>
    public event EventHandler<ResubscribeFailure>? ResubscribeFailed;

    /// <summary>Raised with the close code whenever the connection ends.</summary>
    public event EventHandler<int>? Disconnected;

    /// <summary>Every publication received, recovered ones included, in order per channel.</summary>
    public IAsyncEnumerable<Publication> ReadPublicationsAsync(CancellationToken cancellation = default) => _publications.Reader.ReadAllAsync(cancellation);

    /// <summary>The user's inbox entries: those waiting at connect, then live ones.</summary>
    public IAsyncEnumerable<InboxEntry> ReadInboxAsync(CancellationToken cancellation = default) => _inbox.Reader.ReadAllAsync(cancellation);

    /// <summary>Connects (throws when the first attempt fails) and keeps the connection up until disposed.</summary>
    public async Task ConnectAsync(CancellationToken cancellation = default)
    {
        await OpenAsync(cancellation).ConfigureAwait(false);
        _lifetime = Task.Run(StayConnectedAsync);
    }

    /// <summary>
    /// Subscribes to <paramref name="channel"/>; returns the reply (offset and epoch when the channel keeps history).
    /// Subscribing again to a channel already subscribed recovers from the last publication received, so nothing is
    /// skipped or repeated.
    /// </summary>
    public async Task<JsonElement> SubscribeAsync(string channel, string? subscriptionToken = null, CancellationToken cancellation = default)
    {
        return await SubscribeCallAsync(channel, subscriptionToken, StreamUse.Subscribe, cancellation).ConfigureAwait(false);
    }

    /// <summary>Unsubscribes from <paramref name="channel"/>.</summary>
    public async Task UnsubscribeAsync(string channel, CancellationToken cancellation = default)
    {
        ForgetStream(channel);
        await CallAsync(ProtocolNames.Methods.Unsubscribe, new JsonObject { ["channel"] = channel }, cancellation).ConfigureAwait(false);
    }

    /// <summary>Publishes to a channel (the server must allow client publish there); returns the recipients on the server's node.</summary>
    public async Task<int> PublishAsync(string channel, JsonNode? data, CancellationToken cancellation = default)
    {
        var result = await CallAsync(ProtocolNames.Methods.Publish, new JsonObject { ["channel"] = channel, ["data"] = data }, cancellation).ConfigureAwait(false);
        return result.GetProperty("recipients").GetInt32();
    }

    /// <summary>Connections and unique users in a channel this client is subscribed to.</summary>
    public async Task<(int Connections, int Users)> PresenceStatsAsync(string channel, CancellationToken cancellation = default)
    {
        var result = await CallAsync(ProtocolNames.Methods.PresenceStats, new JsonObject { ["channel"] = channel }, cancellation).ConfigureAwait(false);
        return (result.GetProperty("connections").GetInt32(), result.GetProperty("users").GetInt32());
    }

    /// <summary>Acknowledges the user's inbox up to <paramref name="offset"/>: those entries are never delivered to this user again.</summary>
    public async Task<ulong> AckInboxAsync(ulong offset, CancellationToken cancellation = default) =>
        (await CallAsync(ProtocolNames.Methods.InboxAck, new JsonObject { ["offset"] = offset }, cancellation).ConfigureAwait(false)).GetProperty("acked").GetUInt64();

    /// <summary>Closes the connection for good.</summary>
    public async ValueTask DisposeAsync()
    {
        await _disposed.CancelAsync().ConfigureAwait(false);
        _refreshTimer?.Dispose();
        var socket = _socket;
        if (socket is not null)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
            socket.Abort();
        }
        await _lifetime.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        socket?.Dispose();
        _publications.Writer.TryComplete();
        _inbox.Writer.TryComplete();
    }
}
