using Herald.Core.Connections;
using Herald.Core.Protocols.HeraldV1;
using Herald.Core.Protocols.Plain;
using Herald.Core.Protocols.Pusher;

namespace Herald.Core.Protocols;

/// <summary>Which adapter speaks for a connection: the one place a new protocol is mapped to its connections.</summary>
internal static class ClientProtocols
{
    /// <summary>The adapter of connections of <paramref name="kind"/>.</summary>
    public static IClientProtocol For(ConnectionKind kind) => kind switch
    {
        ConnectionKind.Plain => PlainProtocol.Instance,
        ConnectionKind.Pusher => PusherProtocol.Instance,
        _ => HeraldV1Protocol.Instance,
    };
}
