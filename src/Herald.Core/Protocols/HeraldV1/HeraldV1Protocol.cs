using Herald.Core.Attributes;
using Herald.Core.Connections;
using Herald.Core.Sessions;
using Herald.Protocol;

namespace Herald.Core.Protocols.HeraldV1;

/// <summary>
/// The <c>herald.v1</c> protocol of the SDKs (docs/protocol.md): each text frame is one command
/// <c>{"id":N,"method":"name","params":{...}}</c>, answered by a reply with the same id (<see cref="HeraldV1Reply"/>).
/// <c>connect</c> comes first; <c>pong</c> answers the server's ping and gets no reply.
/// </summary>
internal sealed class HeraldV1Protocol : IClientProtocol
{
    /// <summary>The one instance: the adapter keeps no state.</summary>
    public static readonly HeraldV1Protocol Instance = new();

    /// <inheritdoc />
    public bool OneCopyPerPublish => false;

    /// <inheritdoc />
    /// <remarks>A publication push naming its channel and offset, or an inbox entry with the inbox offset.</remarks>
    public byte[] PushFrame(Routing.Publication publication, string? channel, ulong offset, bool inbox) =>
        inbox && offset != 0 ? publication.InboxFrame(offset) : publication.NativeFrame(channel, offset);

    /// <inheritdoc />
    /// <remarks><c>{"push":"join"|"leave",...}</c> and <c>{"push":"subscribe"|"unsubscribe","channel":...}</c>.</remarks>
    public byte[]? EventFrame(ClientEvent clientEvent) => clientEvent switch
    {
        PresenceChanged { PusherOnly: true } => null, // a Pusher presence channel's member events; join_leave is off
        PresenceChanged p => ServerFrames.Presence(p.Joined ? ProtocolNames.Pushes.Join : ProtocolNames.Pushes.Leave, p.Channel, p.Client, p.User, p.Info),
        SubscriptionChangedByServer s => ServerFrames.SubscriptionChanged(s.Subscribed ? ProtocolNames.Pushes.Subscribe : ProtocolNames.Pushes.Unsubscribe, s.Channel),
        _ => null,
    };

    /// <inheritdoc />
    public bool ConnectsByCommand => true;

    /// <inheritdoc />
    public byte[]? PingFrame => ServerFrames.PingPush;

    /// <inheritdoc />
    public bool Recovers => true;

    /// <inheritdoc />
    public byte[]? DisconnectFrame(int code, string reason) => ServerFrames.Disconnect(code, reason);

    private HeraldV1Protocol()
    {
    }

    /// <inheritdoc />
    public async ValueTask OnTextFrameAsync(ClientSession session, ReadOnlyMemory<byte> utf8)
    {
        var connection = session.Connection;
        if (!ClientCommandParser.TryParse(utf8, out var command, out var parseError))
        {
            var mistake = new CommandError(ErrorCodes.BadRequest, parseError!);
            session.ReportMistake(mistake);
            new HeraldV1Reply(connection, command.Id).Failed(mistake);
            return;
        }
        if (command.Method == ProtocolNames.Methods.Pong)
        {
            return; // any frame counts as activity; nothing to answer
        }
        var reply = new HeraldV1Reply(connection, command.Id);
        if (connection.State == ConnectionState.AwaitingConnect && command.Method != ProtocolNames.Methods.Connect)
        {
            reply.Failed(new CommandError(ErrorCodes.NotConnected, "send the connect command first"));
            return;
        }
        var parameters = command.Params;
        switch (command.Method)
        {
            case ProtocolNames.Methods.Connect:
                await session.ConnectAsync(HeraldV1Requests.Connect(parameters, session.Options.MaxAttributes), reply).ConfigureAwait(false);
                break;
            case ProtocolNames.Methods.Subscribe:
                await session.SubscribeAsync(HeraldV1Requests.Subscribe(parameters), reply).ConfigureAwait(false);
                break;
            case ProtocolNames.Methods.Refresh:
                await session.RefreshAsync(HeraldV1Requests.StringField(parameters, "token"u8), reply).ConfigureAwait(false);
                break;
            case ProtocolNames.Methods.Unsubscribe:
                await session.UnsubscribeAsync(HeraldV1Requests.StringField(parameters, "channel"u8), reply).ConfigureAwait(false);
                break;
            case ProtocolNames.Methods.Publish:
                await session.PublishAsync(HeraldV1Requests.Publish(parameters), reply).ConfigureAwait(false);
                break;
            case ProtocolNames.Methods.Attrs:
                SetAttributes(session, parameters, reply);
                break;
            case ProtocolNames.Methods.Presence:
                await session.PresenceAsync(HeraldV1Requests.Presence(parameters), reply).ConfigureAwait(false);
                break;
            case ProtocolNames.Methods.PresenceStats:
                await session.PresenceStatsAsync(HeraldV1Requests.StringField(parameters, "channel"u8), reply).ConfigureAwait(false);
                break;
            case ProtocolNames.Methods.InboxAck:
                await session.AckInboxAsync(HeraldV1Requests.InboxAckOffset(parameters), reply).ConfigureAwait(false);
                break;
            case ProtocolNames.Methods.Ping:
                reply.Succeeded();
                break;
            default:
                reply.Failed(new CommandError(ErrorCodes.UnknownMethod,
                    $"unknown method \"{command.Method}\"; methods are connect, refresh, subscribe, unsubscribe, publish, attrs, presence, presence_stats, inbox_ack, ping, pong"));
                break;
        }
    }

    /// <inheritdoc />
    public void Refuse(Connection connection, ReadOnlySpan<byte> frame, CommandError error) =>
        new HeraldV1Reply(connection, ClientCommandParser.PeekId(frame)).Failed(error);

    /// <summary><c>attrs</c>: <c>{"attrs":{...}}</c> replaces the client's attributes.</summary>
    private static void SetAttributes(ClientSession session, ReadOnlyMemory<byte> parameters, HeraldV1Reply reply)
    {
        if (!JsonObjectFields.TryGetRaw(parameters, "attrs"u8, out var raw, out _))
        {
            reply.Failed(new CommandError(ErrorCodes.BadRequest, "attrs needs \"attrs\": an object of attributes"));
            return;
        }
        if (!AttributeJson.TryParseAttributes(raw.Span, session.Options.MaxAttributes, out var attributes, out var code, out var error))
        {
            reply.Failed(new CommandError(code, error));
            return;
        }
        session.SetAttributes(attributes, reply);
    }
}
