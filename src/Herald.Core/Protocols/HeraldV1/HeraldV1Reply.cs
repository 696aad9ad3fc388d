using Herald.Core.Connections;
using Herald.Core.Engine;
using Herald.Core.Routing;
using Herald.Core.Sessions;
using Herald.Protocol;

namespace Herald.Core.Protocols.HeraldV1;

/// <summary>
/// Sends the outcome of one herald.v1 command: <c>{"id":N,"result":{...}}</c> or <c>{"id":N,"error":{"code","message"}}</c>.
/// A command without an id is a notification: most results are then not sent (errors always are).
/// </summary>
internal sealed class HeraldV1Reply(Connection connection, ulong id) :
    ICommandReply<ConnectResult>, ICommandReply<SubscribeResult>, ICommandReply<PublishResult>, ICommandReply<RefreshResult>,
    ICommandReply<PresencePage>, ICommandReply<PresenceStats>, ICommandReply<InboxAckResult>
{
    private bool HasId => id != 0;

    public void Failed(CommandError error) => connection.TrySend(ServerFrames.Error(id, error.Code, error.Message));

    public void Succeeded()
    {
        if (HasId)
        {
            connection.TrySend(ServerFrames.EmptyResult(id));
        }
    }

    public void Succeeded(ConnectResult result)
    {
        if (HasId)
        {
            connection.TrySend(ServerFrames.Result(id, result, static (w, r) => HeraldV1Results.WriteConnect(w, r)));
        }
    }

    public void Succeeded(SubscribeResult result)
    {
        if (result.Stream is null)
        {
            Succeeded();
        }
        else if (HasId)
        {
            connection.TrySend(ServerFrames.Result(id, result.Stream, static (w, s) => HeraldV1Results.WriteStreamState(w, s)));
        }
    }

    public void Succeeded(PublishResult result)
    {
        if (HasId)
        {
            connection.TrySend(ServerFrames.Result(id, result.Recipients, static (w, n) =>
            {
                if (n >= 0)
                {
                    w.WriteNumber("recipients"u8, n); // unknown in a cluster: every node delivers
                }
            }));
        }
    }

    // Refresh and presence answered even a command without an id (with "id":0) from the start; kept for clients that rely on it.
    public void Succeeded(RefreshResult result) =>
        connection.TrySend(ServerFrames.Result(id, result.ExpiresInSeconds, static (w, expiresIn) =>
        {
            if (expiresIn is { } seconds)
            {
                w.WriteNumber("expires_in"u8, seconds);
            }
        }));

    public void Succeeded(PresencePage result) =>
        connection.TrySend(ServerFrames.Result(id, result, static (w, p) => HeraldV1Results.WritePresencePage(w, p)));

    public void Succeeded(PresenceStats result) =>
        connection.TrySend(ServerFrames.Result(id, result, static (w, s) =>
        {
            w.WriteNumber("connections"u8, s.Connections);
            w.WriteNumber("users"u8, s.Users);
        }));

    public void Succeeded(InboxAckResult result)
    {
        if (HasId)
        {
            connection.TrySend(ServerFrames.Result(id, result.Acked, static (w, a) => w.WriteNumber("acked"u8, a)));
        }
    }
}
