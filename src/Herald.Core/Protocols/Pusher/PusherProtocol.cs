using System.Globalization;
using System.Text;
using System.Text.Json;
using Herald.Core.Apps;
using Herald.Core.Connections;
using Herald.Core.Routing;
using Herald.Core.Sessions;
using Herald.Protocol;

namespace Herald.Core.Protocols.Pusher;

/// <summary>
/// The Pusher Channels protocol (version 7) of pusher-js and Laravel Echo, at <c>/app/{key}</c>: each text frame is
/// <c>{"event":...,"data":...}</c> (<c>pusher:ping</c>, <c>pusher:subscribe</c>, <c>pusher:unsubscribe</c>,
/// <c>pusher:signin</c>, <c>client-*</c>). Channels and users are the app's own names, mapped to the node's by
/// <see cref="AppScope"/>; private and presence channels and sign-ins are authorised by the app's signatures
/// (<see cref="PusherSignature"/>), not by Herald's tokens or namespaces. A bad frame gets <c>pusher:error</c> and the
/// connection lives on; a refused subscription gets <c>pusher:subscription_error</c> naming the channel.
/// </summary>
internal sealed class PusherProtocol : IClientProtocol
{
    /// <summary>The one instance: what a connection is lives on it (<see cref="PusherConnectionState"/>).</summary>
    public static readonly PusherProtocol Instance = new();

    /// <summary>How long a connection of an app with user_authentication_required may stay without signing in (Pusher's grace).</summary>
    public static readonly TimeSpan SigninGrace = TimeSpan.FromSeconds(30);

    /// <summary>The protocol versions pusher-js and the other Pusher clients speak that this adapter serves.</summary>
    private const int MinProtocol = 5;
    private const int MaxProtocol = 7;

    private static readonly Func<Publication, string?, byte[]> EncodePublication =
        static (publication, channel) => PusherFrames.Event(publication.Event, channel is null ? null : AppScope.LocalName(channel), publication.Data);

    private PusherProtocol()
    {
    }

    /// <inheritdoc />
    public bool OneCopyPerPublish => false;

    /// <inheritdoc />
    /// <remarks><c>{"event":E,"channel":C,"data":D}</c>: E the publish's event or <c>message</c>, C the app's name of the channel.</remarks>
    public byte[] PushFrame(Publication publication, string? channel, ulong offset, bool inbox) => publication.PusherFrame(channel, EncodePublication);

    /// <inheritdoc />
    /// <remarks>
    /// A join or leave of a presence channel is <c>pusher_internal:member_added</c> or <c>member_removed</c> (the core
    /// announces them per user); Pusher clients hear of nothing else.
    /// </remarks>
    public byte[]? EventFrame(ClientEvent clientEvent) => clientEvent switch
    {
        PresenceChanged p when p.User.Length > 0 && PusherChannelNames.IsPresence(p.Channel) =>
            PusherFrames.Member(AppScope.LocalName(p.Channel), AppScope.LocalUser(p.Channel, p.User), p.Info.IsEmpty ? null : p.Info.ToArray(), p.Joined),
        _ => null,
    };

    /// <inheritdoc />
    public bool ConnectsByCommand => false;

    /// <inheritdoc />
    public bool AuthenticatesWithTokens => false;

    /// <inheritdoc />
    public byte[]? PingFrame => PusherFrames.Ping;

    /// <inheritdoc />
    public bool Recovers => false;

    /// <inheritdoc />
    /// <remarks><c>pusher:error</c> with the close code, which is what pusher-js reads before the close.</remarks>
    public byte[]? DisconnectFrame(int code, string reason) => PusherFrames.Error(code, reason);

    /// <inheritdoc />
    public int CloseCode(int code) => PusherCloseCodes.FromHerald(code);

    /// <inheritdoc />
    /// <remarks>
    /// Pusher's socket id <c>{node}.{sequence}</c>: the first number is derived from the node id (FNV-1a), so the ids of
    /// a cluster's nodes differ; the HTTP API's <c>socket_id</c> exclusion compares it with the connection's id.
    /// </remarks>
    public string ConnectionId(string nodeId, long sequence) =>
        NodePrefix(nodeId) + sequence.ToString(CultureInfo.InvariantCulture);

    /// <summary>The last node id asked for and its "{node}." prefix: a process runs one node, so it is hashed once.</summary>
    private static Tuple<string, string>? _prefix;

    private static string NodePrefix(string nodeId)
    {
        var cached = Volatile.Read(ref _prefix);
        if (cached is null || !ReferenceEquals(cached.Item1, nodeId) && cached.Item1 != nodeId)
        {
            cached = Tuple.Create(nodeId, NodeNumber(nodeId).ToString(CultureInfo.InvariantCulture) + ".");
            Volatile.Write(ref _prefix, cached);
        }
        return cached.Item2;
    }

    private static uint NodeNumber(string nodeId)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(nodeId))
        {
            hash = (hash ^ b) * 16777619u;
        }
        return hash;
    }

    /// <summary>
    /// Starts a Pusher connection the transport just opened: refuses it with Pusher's close code (unknown key 4001,
    /// disabled app 4003, unsupported protocol 4007, origin not allowed 4009) or tells the client its socket id.
    /// </summary>
    public static void Start(ClientSession session, PusherHandshake handshake)
    {
        var connection = session.Connection;
        if (handshake.App is not { } app)
        {
            connection.DisconnectWithCloseCode(PusherCloseCodes.UnknownApp, $"App key {handshake.Key} does not exist on this server");
            return;
        }
        if (!app.Enabled)
        {
            connection.DisconnectWithCloseCode(PusherCloseCodes.AppDisabled, $"App {app.Id} is disabled (app option enabled)");
            return;
        }
        if (!int.TryParse(handshake.ProtocolVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var version) || version is < MinProtocol or > MaxProtocol)
        {
            connection.DisconnectWithCloseCode(PusherCloseCodes.UnsupportedProtocol,
                $"Unsupported protocol version {handshake.ProtocolVersion ?? "(none)"}: this server speaks protocol {MinProtocol} to {MaxProtocol} (?protocol=7)");
            return;
        }
        if (!handshake.OriginAllowed)
        {
            connection.DisconnectWithCloseCode(PusherCloseCodes.Unauthorized, $"Origin not allowed for app {app.Id} (app option allowed_origins)");
            return;
        }
        if (!session.TryCountAppConnection(app))
        {
            connection.DisconnectWithCloseCode(PusherCloseCodes.OverQuota, $"App {app.Id} has its most connections, {app.MaxConnections} (app option max_connections)");
            return;
        }
        connection.ProtocolState = new PusherConnectionState(app);
        if (app.UserAuthenticationRequired)
        {
            // The keep-alive sweep closes a connection past its expiry; signing in clears it (4009 for Pusher clients).
            connection.ExpiresAtTicks = session.NowTicks + SigninGrace.Ticks;
        }
        var activityTimeout = (int)Math.Max(1, Math.Round(session.Options.PingInterval.TotalSeconds));
        connection.TrySend(PusherFrames.ConnectionEstablished(connection.Id, activityTimeout));
    }

    /// <inheritdoc />
    /// <remarks>Gives back the connection's place among its app's connections (max_connections).</remarks>
    public void Closed(ClientSession session)
    {
        if (session.Connection.ProtocolState is PusherConnectionState state)
        {
            session.ReleaseAppConnection(state.App);
        }
    }

    /// <inheritdoc />
    public void Refuse(Connection connection, ReadOnlySpan<byte> frame, CommandError error) =>
        connection.TrySend(PusherFrames.Error(error.Code == ErrorCodes.LimitExceeded ? PusherCloseCodes.RateLimited : null, error.Message));

    /// <inheritdoc />
    public async ValueTask OnTextFrameAsync(ClientSession session, ReadOnlyMemory<byte> utf8)
    {
        var connection = session.Connection;
        if (connection.ProtocolState is not PusherConnectionState state)
        {
            return; // refused at the start: closing
        }
        if (!PusherRequest.TryRead(utf8, out var request, out var error))
        {
            Mistake(session, error);
            return;
        }
        switch (request.Event)
        {
            case "pusher:ping":
                connection.TrySend(PusherFrames.Pong);
                break;
            case "pusher:pong":
                break; // any frame counts as activity
            case "pusher:subscribe":
                await PusherSubscriptions.SubscribeAsync(session, state, request).ConfigureAwait(false);
                break;
            case "pusher:unsubscribe":
                await PusherSubscriptions.UnsubscribeAsync(session, state, request).ConfigureAwait(false);
                break;
            case "pusher:signin":
                PusherSignin.SignIn(session, state, request);
                break;
            default:
                if (request.Event.StartsWith("client-", StringComparison.Ordinal))
                {
                    await PusherClientEvents.SendAsync(session, state, request).ConfigureAwait(false);
                }
                else
                {
                    Mistake(session, $"unknown event \"{request.Event}\": clients send pusher:ping, pusher:pong, pusher:subscribe, pusher:unsubscribe, pusher:signin and client-* events");
                }
                break;
        }
    }

    /// <summary>Tells the client its frame was not run (<c>pusher:error</c> without a code: the connection lives on).</summary>
    internal static void Mistake(ClientSession session, string message, int? code = null)
    {
        session.ReportMistake(new CommandError(ErrorCodes.BadRequest, message));
        session.Connection.TrySend(PusherFrames.Error(code, message));
    }
}
