using Herald.Core.Attributes;
using Herald.Core.Connections;
using Herald.Core.Routing;
using Herald.Protocol;

namespace Herald.Core;

public sealed partial class Node
{
    [ThreadStatic] private static List<Connection>? t_recipients;

    /// <summary>
    /// The one delivery loop: queues the publication for every ready recipient that matches <paramref name="where"/>.
    /// Plain clients get the data once per publish (when <paramref name="firstTime"/> says so); with
    /// <paramref name="streamEpoch"/>, native ones that a recovery already sent this offset to are skipped; native ones a
    /// push built once here and shared: an inbox entry when <paramref name="inbox"/> with an offset, else a publication on
    /// <paramref name="channel"/> (at <paramref name="offset"/> when stored; none: attribute-targeted). The sends run as
    /// the publisher asked (<see cref="Publication.Dispatch"/>).
    /// </summary>
    private static int Deliver(List<Connection> recipients, Publication publication, WhereFilter? where, Func<Connection, bool>? firstTime,
        string? channel, ulong offset, bool inbox, string? streamEpoch = null)
    {
        byte[]? native = null;
        var delivered = 0;
        var batch = FlushBatch.For(publication.Dispatch);
        try
        {
            foreach (var connection in recipients)
            {
                if (connection.State != ConnectionState.Ready || (where is not null && !connection.Attributes.Matches(where)))
                {
                    continue;
                }
                if (connection.Kind == ConnectionKind.Plain)
                {
                    if (firstTime is null || firstTime(connection))
                    {
                        delivered += connection.TrySend(publication.PlainFrame, batch) ? 1 : 0;
                    }
                    continue;
                }
                if (streamEpoch is not null && !connection.IsNewOnStream(channel ?? "", streamEpoch, offset))
                {
                    continue; // a recovery already sent it
                }
                native ??= inbox && offset != 0 ? ServerFrames.InboxEntry(offset, publication.Data) : publication.NativeFrame(channel, offset);
                delivered += connection.TrySend(native, batch) ? 1 : 0;
            }
        }
        finally
        {
            batch?.Dispatch(); // every connection the batch took must be flushed
        }
        return delivered;
    }

    /// <summary>Delivers an attribute-targeted publication to every connection whose attributes match (found by index, not by scan).</summary>
    private int DeliverToMatching(WhereFilter where, Publication publication)
    {
        var recipients = RentRecipients();
        if (where.MatchesAll)
        {
            recipients.AddRange(_connections.All);
        }
        else
        {
            _index.Match(where, recipients);
        }
        // The index already matched them: no filter to apply again.
        var delivered = Deliver(recipients, publication, where: null, firstTime: null, channel: null, offset: 0, inbox: false);
        ReturnRecipients(recipients);
        return delivered;
    }

    private static List<Connection> RentRecipients()
    {
        var list = t_recipients ?? new List<Connection>(256);
        t_recipients = null; // taken: a nested use on this thread gets its own list
        list.Clear();
        return list;
    }

    private static void ReturnRecipients(List<Connection> list)
    {
        list.Clear();
        if (list.Capacity <= 64 * 1024)
        {
            t_recipients = list; // keep small lists for the next publish on this thread, not a rare giant one
        }
    }
}
