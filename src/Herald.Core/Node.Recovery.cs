using System.Text.Json;
using Herald.Core.Channels;
using Herald.Core.Connections;
using Herald.Core.Engine;
using Herald.Protocol;

namespace Herald.Core;

public sealed partial class Node
{
    /// <summary>What a subscription with history says: where the stream is and, when asked, what was missed.</summary>
    private sealed record SubscriptionState(StreamPosition Position, bool? Recovered, IReadOnlyList<StoredPublication> Publications);

    /// <summary>
    /// Reads a <c>since</c> object <c>{"offset":N,"epoch":"E"}</c>. Absent: null, no error.
    /// </summary>
    private static bool TryReadSince(ReadOnlyMemory<byte> parameters, out StreamPosition? since, out string error)
    {
        since = null;
        error = "";
        if (!JsonObjectFields.TryGetRaw(parameters, "since"u8, out var raw, out var type) || type == JsonTokenType.Null)
        {
            return true;
        }
        return TryReadPosition(raw, out since, out error);
    }

    private static bool TryReadPosition(ReadOnlyMemory<byte> raw, out StreamPosition? position, out string error)
    {
        position = null;
        error = "\"since\" must be {\"offset\":<the last offset you saw>,\"epoch\":\"<the epoch from the subscribe reply>\"}";
        try
        {
            using var document = JsonDocument.Parse(raw);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("offset", out var offset) || offset.ValueKind != JsonValueKind.Number || !offset.TryGetUInt64(out var value)
                || (root.TryGetProperty("epoch", out var epoch) && epoch.ValueKind != JsonValueKind.String))
            {
                return false;
            }
            position = new StreamPosition(value, root.TryGetProperty("epoch", out var e) ? e.GetString()! : "");
            error = "";
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// The stream state for a subscriber of <paramref name="channel"/>, recovering from <paramref name="since"/> when
    /// given. The caller holds the channel's gate and has already subscribed the connection, so nothing published
    /// meanwhile is missed or sent twice. Recovery succeeds when the epoch matches and nothing after
    /// <paramref name="since"/> was trimmed; then every missed publication is returned, in order.
    /// A <c>since</c> of offset 0 with an empty epoch means "from the start of the stream".
    /// </summary>
    private async ValueTask<SubscriptionState> ReadSubscriptionStateAsync(string channel, NamespaceOptions ns, StreamPosition? since)
    {
        if (since is not { } from)
        {
            return new SubscriptionState(await _history.GetPositionAsync(channel).ConfigureAwait(false), null, []);
        }
        var page = await _history.ReadAsync(channel, from.Offset, ns.HistorySize, newestFirst: false).ConfigureAwait(false);
        var position = page.Position;
        var fromStart = from.Offset == 0 && from.Epoch.Length == 0;
        var recovered =
            (fromStart || from.Epoch == position.Epoch)
            && from.Offset <= position.Offset
            && (from.Offset == position.Offset || (page.OldestOffset != 0 && page.OldestOffset <= from.Offset + 1));
        return new SubscriptionState(position, recovered, recovered ? page.Publications : []);
    }

    private static void WriteSubscriptionState(Utf8JsonWriter w, SubscriptionState state)
    {
        w.WriteNumber("offset"u8, state.Position.Offset);
        w.WriteString("epoch"u8, state.Position.Epoch);
        if (state.Recovered is { } recovered)
        {
            w.WriteBoolean("recovered"u8, recovered);
            WritePublications(w, state.Publications);
        }
    }

    /// <summary>Writes <c>"publications":[{"offset":N,"data":...}...]</c>.</summary>
    private static void WritePublications(Utf8JsonWriter w, IReadOnlyList<StoredPublication> publications)
    {
        w.WriteStartArray("publications"u8);
        foreach (var publication in publications)
        {
            w.WriteStartObject();
            w.WriteNumber("offset"u8, publication.Offset);
            w.WritePropertyName("data"u8);
            w.WriteRawValue(publication.Data, skipInputValidation: true);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteInbox(Utf8JsonWriter w, InboxPage inbox)
    {
        w.WriteStartObject("inbox"u8);
        w.WriteNumber("offset"u8, inbox.Offset);
        w.WriteNumber("acked"u8, inbox.Acked);
        WritePublications(w, inbox.Publications);
        w.WriteEndObject();
    }

    /// <summary>
    /// Quiesces several streams in a fixed order (so two callers can never deadlock): their gates are held and all
    /// their started publications delivered until the returned set is disposed.
    /// </summary>
    private static async ValueTask<GateSet> QuiesceAsync(IEnumerable<(Routing.StreamPipes Table, string Key)> pipes)
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

    private async ValueTask HandleInboxAckAsync(Connection connection, ClientCommand command)
    {
        if (connection.UserId.Length == 0)
        {
            SendError(connection, command.Id, ErrorCodes.PermissionDenied, "inbox_ack needs a user: connect with a token whose sub is the user id");
            return;
        }
        if (!JsonObjectFields.TryGetRaw(command.Params, "offset"u8, out var raw, out var type) || type != JsonTokenType.Number
            || !ulong.TryParse(raw.Span, out var offset))
        {
            SendError(connection, command.Id, ErrorCodes.BadRequest, "inbox_ack needs \"offset\": the newest inbox offset you have handled");
            return;
        }
        ulong acked;
        try
        {
            acked = await _inbox.AckAsync(connection.UserId, offset).ConfigureAwait(false);
            StoreRecovered();
        }
        catch (StoreUnavailableException ex)
        {
            StoreFailed(ex);
            SendError(connection, command.Id, ErrorCodes.StoreUnavailable, "storage failed, try again: " + ex.Message);
            return;
        }
        if (command.HasId)
        {
            connection.TrySend(ServerFrames.Result(command.Id, acked, static (w, a) => w.WriteNumber("acked"u8, a)));
        }
    }
}
