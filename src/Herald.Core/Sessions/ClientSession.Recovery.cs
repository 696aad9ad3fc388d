using Herald.Core.Channels;
using Herald.Core.Engine;
using Herald.Core.Routing;

namespace Herald.Core.Sessions;

internal readonly partial struct ClientSession
{
    /// <summary>
    /// The stream state for a subscriber of <paramref name="channel"/>, recovering from <paramref name="since"/> when
    /// given. The caller holds the channel's gate and has already subscribed the connection, so nothing published
    /// meanwhile is missed or sent twice. Recovery succeeds when the epoch matches and nothing after
    /// <paramref name="since"/> was trimmed; then every missed publication is returned, in order.
    /// A <c>since</c> of offset 0 with an empty epoch means "from the start of the stream".
    /// </summary>
    private async ValueTask<StreamState> ReadStreamStateAsync(string channel, NamespaceOptions ns, StreamPosition? since)
    {
        var history = services.History;
        if (since is not { } from)
        {
            return new StreamState(await history.GetPositionAsync(channel).ConfigureAwait(false), null, []);
        }
        var page = await history.ReadAsync(channel, from.Offset, ns.HistorySize, newestFirst: false).ConfigureAwait(false);
        var position = page.Position;
        var fromStart = from.Offset == 0 && from.Epoch.Length == 0;
        var recovered =
            (fromStart || from.Epoch == position.Epoch)
            && from.Offset <= position.Offset
            && (from.Offset == position.Offset || (page.OldestOffset != 0 && page.OldestOffset <= from.Offset + 1));
        return new StreamState(position, recovered, recovered ? page.Publications : []);
    }

    /// <summary>
    /// Quiesces several streams in a fixed order (so two callers can never deadlock): their gates are held and all
    /// their started publications delivered until the returned set is disposed.
    /// </summary>
    private static async ValueTask<GateSet> QuiesceAsync(IEnumerable<(StreamPipes Table, string Key)> pipes)
    {
        // Channels before users, then by name: one global order.
        var ordered = pipes.Distinct().OrderBy(p => p.Table.GetHashCode()).ThenBy(p => p.Key, StringComparer.Ordinal).ToList();
        var taken = new List<SemaphoreSlim>(ordered.Count);
        try
        {
            foreach (var (table, key) in ordered)
            {
                taken.Add((await table.EnterAsync(key, quiesce: true).ConfigureAwait(false)).Gate);
            }
        }
        catch
        {
            new GateSet(taken).Dispose();
            throw;
        }
        return new GateSet(taken);
    }

    /// <summary>Gates held by <see cref="QuiesceAsync"/>, released on dispose.</summary>
    private readonly struct GateSet(List<SemaphoreSlim> gates) : IDisposable
    {
        public void Dispose()
        {
            foreach (var gate in gates)
            {
                gate.Release();
            }
        }
    }
}
