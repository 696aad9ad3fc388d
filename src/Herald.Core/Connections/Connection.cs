using Herald.Core.Attributes;
using Herald.Core.Protocols;

namespace Herald.Core.Connections;

/// <summary>
/// One client connection: who it is (attributes, channels) and its bounded send queue. Frames queued for a
/// connection are sent in order, one send at a time (frames that queued up behind a send in flight go out together);
/// a connection whose queue overflows is disconnected as a slow consumer instead of holding anyone else up.
/// </summary>
public sealed partial class Connection
{
    private readonly Node _node;
    private readonly IConnectionTransport _transport;
    private readonly Lock _sync = new();
    private HashSet<string>? _channels;
    private volatile ConnectionState _state;

    internal Connection(Node node, string id, ConnectionKind kind, IConnectionTransport transport, string remoteAddress, long nowTicks, bool awaitingAuth)
    {
        _node = node;
        Id = id;
        Kind = kind;
        Protocol = ClientProtocols.For(kind);
        _transport = transport;
        RemoteAddress = remoteAddress;
        OpenedAtTicks = nowTicks;
        LastReceivedTicks = nowTicks;
        LastPingTicks = nowTicks;
        _state = awaitingAuth ? ConnectionState.AwaitingConnect : ConnectionState.Ready;
    }

    /// <summary>Server-assigned id, unique within the process.</summary>
    public string Id { get; }

    /// <summary>Plain or native.</summary>
    public ConnectionKind Kind { get; }

    /// <summary>The adapter that reads and writes this connection's frames (<see cref="ClientProtocols.For"/>).</summary>
    internal IClientProtocol Protocol { get; }

    /// <summary>The peer's address as text, for logs.</summary>
    public string RemoteAddress { get; }

    /// <summary>The current attributes; replaced as a whole through the node's attribute index.</summary>
    public AttributeSet Attributes { get; internal set; } = AttributeSet.Empty;

    /// <summary>The user id from the token; empty for anonymous connections.</summary>
    public string UserId { get; internal set; } = "";

    /// <summary>The token's <c>info</c> claim (raw JSON), or null.</summary>
    public byte[]? Info { get; internal set; }

    /// <summary>The token's trusted attributes, merged over what the client sends.</summary>
    internal AttributeSet? TokenAttributes { get; set; }

    /// <summary>When the token expires (ticks of the node's clock), 0 when it does not.</summary>
    internal long ExpiresAtTicks { get; set; }

    /// <summary>
    /// What the connection's protocol adapter keeps about it between frames (adapters themselves are stateless): null
    /// for the protocols that keep nothing, the Pusher adapter's app, channels and sign-in.
    /// </summary>
    internal object? ProtocolState { get; set; }

    /// <summary>Where the connection is in its life cycle.</summary>
    public ConnectionState State => _state;

    internal long OpenedAtTicks { get; }

    internal long LastReceivedTicks { get; set; }

    internal long LastPingTicks { get; set; }

    internal long CloseDeadlineTicks { get; private set; }

    /// <summary>The channels this connection is subscribed to (a copy).</summary>
    public string[] Channels
    {
        get
        {
            lock (_sync)
            {
                return _channels is null ? [] : [.. _channels];
            }
        }
    }

    internal int ChannelCount
    {
        get
        {
            lock (_sync)
            {
                return _channels?.Count ?? 0;
            }
        }
    }

    private double _rateTokens = -1;
    private long _rateTicks;

    /// <summary>Token bucket for the client's message rate: false when the client sent too fast.</summary>
    internal bool TryTakeRateToken(int perSecond, long nowTicks)
    {
        if (perSecond <= 0)
        {
            return true;
        }
        // Only the receive loop of this connection calls this: no lock needed.
        var burst = 2.0 * perSecond;
        if (_rateTokens < 0)
        {
            _rateTokens = burst;
        }
        else
        {
            _rateTokens = Math.Min(burst, _rateTokens + TimeSpan.FromTicks(nowTicks - _rateTicks).TotalSeconds * perSecond);
        }
        _rateTicks = nowTicks;
        if (_rateTokens < 1)
        {
            return false;
        }
        _rateTokens -= 1;
        return true;
    }

    internal bool MarkReady()
    {
        lock (_sync)
        {
            if (_state != ConnectionState.AwaitingConnect)
            {
                return false;
            }
            _state = ConnectionState.Ready;
            return true;
        }
    }

    internal bool AddChannel(string channel)
    {
        lock (_sync)
        {
            return (_channels ??= new HashSet<string>(StringComparer.Ordinal)).Add(channel);
        }
    }

    internal bool HasChannel(string channel)
    {
        lock (_sync)
        {
            return _channels?.Contains(channel) ?? false;
        }
    }

    internal bool RemoveChannel(string channel)
    {
        lock (_sync)
        {
            return _channels?.Remove(channel) ?? false;
        }
    }

    internal string[] MarkClosedAndTakeChannels()
    {
        lock (_sync)
        {
            _state = ConnectionState.Closed;
            _pending?.Clear();
            _pendingBytes = 0;
            var channels = _channels is null ? [] : _channels.ToArray();
            _channels = null;
            return channels;
        }
    }

    /// <summary>Drops the connection without a handshake (used when a close does not finish in time).</summary>
    internal void Abort() => _transport.Abort();

    /// <summary>The wire under this connection.</summary>
    internal IConnectionTransport Transport => _transport;

    /// <inheritdoc />
    public override string ToString() => $"{Id} ({Kind}, {RemoteAddress})";
}
