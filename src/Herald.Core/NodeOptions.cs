using Herald.Core.Channels;

namespace Herald.Core;

/// <summary>Settings of a <see cref="Node"/>. Defaults are those of the embedded quick start.</summary>
public sealed record NodeOptions
{
    /// <summary>Largest accepted message (WebSocket message, UDP datagram, HTTP body) in bytes.</summary>
    public int MaxMessageSize { get; init; } = 64 * 1024;

    /// <summary>How often the server pings native clients.</summary>
    public TimeSpan PingInterval { get; init; } = TimeSpan.FromSeconds(25);

    /// <summary>How long after a due ping a silent connection is closed as stale.</summary>
    public TimeSpan PongTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a native client may take to send <c>connect</c>.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a closing connection may take to finish its close handshake before it is aborted.</summary>
    public TimeSpan CloseTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Frames that may wait for one slow connection before it is disconnected as a slow consumer.</summary>
    public int SendQueueLimit { get; init; } = 1024;

    /// <summary>Bytes that may wait for one slow connection before it is disconnected as a slow consumer.</summary>
    public int SendQueueMaxBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Whether native clients may publish to channels themselves.</summary>
    public bool ClientPublish { get; init; }

    /// <summary>Most attributes one connection may carry.</summary>
    public int MaxAttributes { get; init; } = 32;

    /// <summary>Most values one key of a <c>where</c> filter may list; a publish with more is refused (error 108).</summary>
    public int MaxWhereValues { get; init; } = 1000;

    /// <summary>
    /// How long a channel with nothing stored (an epoch reserved by a subscriber before the first publication, or a
    /// memory stream whose publications all expired) keeps that state after its last use once nobody on this node is
    /// subscribed: then it is forgotten, and a client returning with that epoch gets <c>recovered:false</c>.
    /// </summary>
    public TimeSpan IdleChannelTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Most channels one connection may be subscribed to.</summary>
    public int MaxChannelsPerConnection { get; init; } = 128;

    /// <summary>Whether every connection needs a valid token (native: in connect; plain: <c>?token=</c>).</summary>
    public bool RequireToken { get; init; }

    /// <summary>Where attributes may come from: the client (the seed's behaviour) or only the token's <c>attrs</c>.</summary>
    public AttributeSource AttributesFrom { get; init; } = AttributeSource.Client;

    /// <summary>Configured channel namespaces; one named <c>""</c> replaces the default namespace.</summary>
    public IReadOnlyList<NamespaceOptions> Namespaces { get; init; } = [];

    /// <summary>Most connections one user may hold on this node (0: no limit).</summary>
    public int MaxConnectionsPerUser { get; init; }

    /// <summary>History kept per channel of the default namespace (0: none).</summary>
    public int HistorySize { get; init; } = 100;

    /// <summary>How long the default namespace keeps history.</summary>
    public TimeSpan HistoryTtl { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Whether channels of the default namespace keep presence.</summary>
    public bool Presence { get; init; } = true;

    /// <summary>Whether subscribers of the default namespace get join and leave pushes.</summary>
    public bool JoinLeave { get; init; }

    /// <summary>Entries kept per user inbox (0: no inbox; user publishes are then live only).</summary>
    public int InboxSize { get; init; } = 1000;

    /// <summary>How long inbox entries are kept.</summary>
    public TimeSpan InboxTtl { get; init; } = TimeSpan.FromDays(7);

    /// <summary>How long a publish's idempotency_key is remembered.</summary>
    public TimeSpan IdempotencyWindow { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Messages per second a client may send, sustained (0: no limit); bursts up to twice that.</summary>
    public int ClientMessageRate { get; init; } = 100;
}

/// <summary>Where a connection's attributes may come from.</summary>
public enum AttributeSource
{
    /// <summary>From the client's messages, merged under the token's <c>attrs</c> (token wins on a shared key).</summary>
    Client,

    /// <summary>Only from the token's <c>attrs</c> claim; attributes sent by a client are refused.</summary>
    Token,
}
