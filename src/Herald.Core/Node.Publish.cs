using Herald.Core.Connections;
using Herald.Core.Routing;

namespace Herald.Core;

public sealed partial class Node
{
    [ThreadStatic] private static List<Connection>? t_recipients;
    [ThreadStatic] private static HashSet<Connection>? t_plainSeen;

    /// <summary>
    /// Routes a publication to this node's connections. Each frame is encoded once and shared by all recipients;
    /// a recipient whose send queue is full is disconnected instead of slowing the others. Native connections that
    /// have not sent <c>connect</c> receive nothing.
    /// </summary>
    public PublishResult Publish(PublishRequest request)
    {
        foreach (var channel in request.Channels)
        {
            if (_policy.Resolve(channel, out var error) is null)
            {
                return new PublishResult(0, Protocol.ErrorCodes.UnknownNamespace, error);
            }
        }
        var publication = new Publication(request);
        var recipients = t_recipients ??= new List<Connection>(256);
        var delivered = 0;
        try
        {
            if (request.Channels.Length > 0 || request.Users.Length > 0)
            {
                // A plain client cannot tell channels apart, so it gets one copy per publish.
                HashSet<Connection>? plainSeen = null;
                if (request.Channels.Length + request.Users.Length > 1)
                {
                    plainSeen = t_plainSeen ??= [];
                    plainSeen.Clear();
                }
                foreach (var channel in request.Channels)
                {
                    recipients.Clear();
                    _channels.CopySubscribers(channel, recipients);
                    foreach (var connection in recipients)
                    {
                        if (connection.State != ConnectionState.Ready
                            || (request.Where is not null && !connection.Attributes.Matches(request.Where)))
                        {
                            continue;
                        }
                        if (connection.Kind == ConnectionKind.Plain)
                        {
                            if (plainSeen is not null && !plainSeen.Add(connection))
                            {
                                continue;
                            }
                            delivered += connection.TrySend(publication.PlainFrame) ? 1 : 0;
                        }
                        else
                        {
                            delivered += connection.TrySend(publication.NativeFrame(channel)) ? 1 : 0;
                        }
                    }
                }
                // A user's connections get the publication once each, without a channel name (users are distinct and
                // a connection has one user, so no connection is reached twice here).
                foreach (var user in request.Users)
                {
                    recipients.Clear();
                    _users.CopyConnections(user, recipients);
                    foreach (var connection in recipients)
                    {
                        if (connection.State != ConnectionState.Ready
                            || (request.Where is not null && !connection.Attributes.Matches(request.Where)))
                        {
                            continue;
                        }
                        if (connection.Kind == ConnectionKind.Plain)
                        {
                            if (plainSeen is not null && !plainSeen.Add(connection))
                            {
                                continue;
                            }
                            delivered += connection.TrySend(publication.PlainFrame) ? 1 : 0;
                        }
                        else
                        {
                            delivered += connection.TrySend(publication.NativeFrame(null)) ? 1 : 0;
                        }
                    }
                }
                plainSeen?.Clear();
            }
            else if (request.Where is not null)
            {
                recipients.Clear();
                if (request.Where.MatchesAll)
                {
                    recipients.AddRange(_connections.All);
                }
                else
                {
                    _index.Match(request.Where, recipients);
                }
                foreach (var connection in recipients)
                {
                    if (connection.State != ConnectionState.Ready)
                    {
                        continue;
                    }
                    var frame = connection.Kind == ConnectionKind.Plain ? publication.PlainFrame : publication.NativeFrame(null);
                    delivered += connection.TrySend(frame) ? 1 : 0;
                }
            }
        }
        finally
        {
            recipients.Clear();
            if (recipients.Capacity > 64 * 1024)
            {
                t_recipients = null; // do not keep a huge list per thread after a rare giant fan-out
            }
        }
        Counters.Published(delivered);
        return new PublishResult(delivered);
    }
}
