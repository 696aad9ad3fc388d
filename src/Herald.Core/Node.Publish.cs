using Herald.Core.Attributes;
using Herald.Core.Channels;
using Herald.Core.Connections;
using Herald.Core.Engine;
using Herald.Core.Routing;
using Herald.Protocol;

namespace Herald.Core;

public sealed partial class Node
{
    [ThreadStatic] private static List<Connection>? t_recipients;

    private readonly StreamPipes _channelPipes = new();
    private readonly StreamPipes _userPipes = new();

    /// <summary>
    /// Publishes: stores the publication in each target channel's history and each target user's inbox (when on),
    /// then routes it to this node's connections. Per channel (and per user) appends start in arrival order and may be
    /// committed together, while deliveries follow strictly in offset order (<see cref="StreamPipe"/>), so live
    /// offsets arrive in order and recovery never misses or repeats one. Each frame is encoded once and
    /// shared by all recipients; a recipient whose send queue is full is disconnected instead of slowing the others.
    /// </summary>
    public ValueTask<PublishResult> PublishAsync(PublishRequest request, CancellationToken cancellation = default)
    {
        if (request.Where is { } filter && !filter.IsWithin(Options.MaxWhereValues, out var whereError))
        {
            return new ValueTask<PublishResult>(new PublishResult(0, ErrorCodes.LimitExceeded, whereError));
        }
        // The seed's most common publish, attributes only ("where" alone, nothing stored) on a single node, completes
        // here without an async state machine or task: it is most of what UDP ingress does at high rates.
        if (request is { IdempotencyKey: null, Channels.Length: 0, Users.Length: 0, Where: { } where } && _broker is null)
        {
            var delivered = RouteWhere(where, new Publication(request));
            Counters.Published(delivered);
            return new ValueTask<PublishResult>(new PublishResult(delivered));
        }
        return PublishWithStepsAsync(request, cancellation);
    }

    private async ValueTask<PublishResult> PublishWithStepsAsync(PublishRequest request, CancellationToken cancellation)
    {
        if (request.IdempotencyKey is { } key)
        {
            return await _idempotency.RunOnceAsync(key, () => _sharedIdempotency is null
                ? PublishOnceAsync(request, cancellation)
                : PublishOnceInClusterAsync(_sharedIdempotency, key, request, cancellation)).ConfigureAwait(false);
        }
        return await PublishOnceAsync(request, cancellation).ConfigureAwait(false);
    }

    private async Task<PublishResult> PublishOnceAsync(PublishRequest request, CancellationToken cancellation)
    {
        var namespaces = new NamespaceOptions[request.Channels.Length];
        for (var i = 0; i < request.Channels.Length; i++)
        {
            if (_policy.Resolve(request.Channels[i], out var error) is not { } ns)
            {
                return new PublishResult(0, ErrorCodes.UnknownNamespace, error);
            }
            namespaces[i] = ns;
        }
        if (_broker is not null)
        {
            return await PublishBrokeredAsync(request, namespaces, cancellation).ConfigureAwait(false);
        }
        var publication = new Publication(request);
        // A plain client cannot tell channels apart, so it gets one copy per publish.
        var plainSeen = request.Channels.Length + request.Users.Length > 1 ? new HashSet<Connection>() : null;
        Dictionary<string, StreamPosition>? positions = null;
        Dictionary<string, ulong>? inboxOffsets = null;
        var delivered = 0;
        StoreUnavailableException? storeFailure = null;
        var stored = false;
        // A publish narrowed by "where" reaches only some of a channel's subscribers (or of a user's devices): it is
        // delivered live but never stored, so recovery and the inbox cannot hand it to a connection it did not match.
        var storable = request.Where is null;
        for (var i = 0; i < request.Channels.Length; i++)
        {
            var channel = request.Channels[i];
            var history = namespaces[i].History;
            if (!history.Enabled || !storable)
            {
                delivered += RouteToChannel(channel, 0, publication, request.Where, plainSeen);
                continue;
            }
            var outcome = await StoreInOrderAsync(_channelPipes, channel, () => _history.AppendAsync(channel, request.Data, history, cancellation),
                position => RouteToChannel(channel, position?.Offset ?? 0, publication, request.Where, plainSeen), cancellation).ConfigureAwait(false);
            delivered += outcome.Delivered;
            if (outcome.Stored is { } position)
            {
                stored = true;
                (positions ??= new(StringComparer.Ordinal))[channel] = position;
            }
            storeFailure ??= outcome.Failure;
        }
        foreach (var user in request.Users)
        {
            if (!InboxLimits.Enabled || !storable)
            {
                delivered += RouteToUser(user, 0, publication, request.Where, plainSeen);
                continue;
            }
            var outcome = await StoreInOrderAsync(_userPipes, user, () => _inbox.AppendAsync(user, request.Data, InboxLimits, cancellation),
                offset => RouteToUser(user, offset ?? 0, publication, request.Where, plainSeen), cancellation).ConfigureAwait(false);
            delivered += outcome.Delivered;
            if (outcome.Stored is { } offset)
            {
                stored = true;
                (inboxOffsets ??= new(StringComparer.Ordinal))[user] = offset;
            }
            storeFailure ??= outcome.Failure;
        }
        if (request.Channels.Length == 0 && request.Users.Length == 0 && request.Where is not null)
        {
            delivered += RouteWhere(request.Where, publication);
        }
        Counters.Published(delivered);
        if (storeFailure is not null)
        {
            StoreFailed(storeFailure);
            return new PublishResult(delivered, ErrorCodes.StoreUnavailable,
                "storage failed, the publish was delivered live but not stored, so it cannot be recovered: " + storeFailure.Message)
            {
                Positions = positions,
                InboxOffsets = inboxOffsets,
            };
        }
        if (stored)
        {
            StoreRecovered(); // only a write that reached the store says it works again
        }
        return new PublishResult(delivered) { Positions = positions, InboxOffsets = inboxOffsets };
    }

    /// <summary>Pipes unused this long are dropped (their next publish makes a new one).</summary>
    private static readonly TimeSpan PipeIdle = TimeSpan.FromMinutes(2);

    internal int PipeCount => _channelPipes.Count + _userPipes.Count;

    internal void SweepPipes(TimeSpan idle)
    {
        _channelPipes.Sweep(idle);
        _userPipes.Sweep(idle);
    }

    /// <summary>
    /// Forgets what the history store keeps for channels with nothing stored, unused for <paramref name="idle"/> and
    /// without subscribers here (a single-node store only: a cluster's history lives in Redis, with its own expiry).
    /// </summary>
    internal int ForgetIdleChannels(TimeSpan idle) =>
        _history is IForgetsIdleStreams store ? store.ForgetIdle(idle, channel => _channels.SubscriberCount(channel) > 0) : 0;

    /// <summary>How many entries each per-name table of this node holds now: what clients can make grow, for tests and diagnostics.</summary>
    internal TrackedState Tracked => new(
        Channels: _channels.Count,
        Users: _users.UserCount,
        StreamPipes: PipeCount,
        IdleChannelState: (_history as IForgetsIdleStreams)?.IdleStateCount ?? 0,
        IdempotencyKeys: _idempotency.Count,
        AttributePairs: _index.PairCount,
        Connections: _connections.Count);

    /// <summary>The sizes of the node's per-name tables (<see cref="Tracked"/>).</summary>
    internal readonly record struct TrackedState(int Channels, int Users, int StreamPipes, int IdleChannelState, int IdempotencyKeys,
        int AttributePairs, int Connections);

    private readonly record struct StoreOutcome<T>(T? Stored, int Delivered, StoreUnavailableException? Failure) where T : struct;

    /// <summary>
    /// Stores then delivers one publication of a stream: the append starts in line under the pipe's gate (so offsets
    /// follow arrival), may overlap with later appends (group commit), and delivery waits for the previous one, so
    /// live offsets arrive in order. When storage fails the publication is still delivered live, without an offset.
    /// </summary>
    private static async ValueTask<StoreOutcome<T>> StoreInOrderAsync<T>(StreamPipes pipes, string key, Func<ValueTask<T>> append, Func<T?, int> deliver, CancellationToken cancellation)
        where T : struct
    {
        Task<T> appending;
        Task previous;
        TaskCompletionSource done;
        var pipe = await pipes.EnterAsync(key, quiesce: false, cancellation).ConfigureAwait(false);
        try
        {
            appending = StartAsync(append);
            (previous, done) = pipe.Enqueue();
        }
        finally
        {
            pipe.Gate.Release();
        }
        try
        {
            T? stored = null;
            StoreUnavailableException? failure = null;
            try
            {
                stored = await appending.ConfigureAwait(false);
            }
            catch (StoreUnavailableException ex)
            {
                failure = ex;
            }
            await previous.ConfigureAwait(false);
            return new StoreOutcome<T>(stored, deliver(stored), failure);
        }
        finally
        {
            done.SetResult();
        }

        static Task<T> StartAsync(Func<ValueTask<T>> append)
        {
            try
            {
                return append().AsTask();
            }
            catch (Exception ex)
            {
                return Task.FromException<T>(ex);
            }
        }
    }

    private RetentionLimits InboxLimits => new(Options.InboxSize, Options.InboxTtl);

    private int RouteToChannel(string channel, ulong offset, Publication publication, WhereFilter? where, HashSet<Connection>? plainSeen)
    {
        var recipients = RentRecipients();
        _channels.CopySubscribers(channel, recipients);
        var delivered = Deliver(recipients, publication, where, plainSeen is null ? null : plainSeen.Add, channel, offset, inbox: false);
        ReturnRecipients(recipients);
        return delivered;
    }

    /// <summary>A user's connections get the publication once each (a connection has one user).</summary>
    private int RouteToUser(string user, ulong inboxOffset, Publication publication, WhereFilter? where, HashSet<Connection>? plainSeen)
    {
        var recipients = RentRecipients();
        _users.CopyConnections(user, recipients);
        var delivered = Deliver(recipients, publication, where, plainSeen is null ? null : plainSeen.Add, null, inboxOffset, inbox: true);
        ReturnRecipients(recipients);
        return delivered;
    }

    /// <summary>
    /// Queues the publication for every ready recipient that matches <paramref name="where"/>. Plain clients get the data
    /// once per publish (when <paramref name="firstTime"/> says so); with <paramref name="streamEpoch"/>, native ones that a
    /// recovery already sent this offset to are skipped; native ones a push built once here and shared: an inbox entry when <paramref name="inbox"/>
    /// with an offset, else a publication on <paramref name="channel"/> (at <paramref name="offset"/> when it has history).
    /// </summary>
    private static int Deliver(List<Connection> recipients, Publication publication, WhereFilter? where, Func<Connection, bool>? firstTime,
        string? channel, ulong offset, bool inbox, string? streamEpoch = null)
    {
        byte[]? native = null;
        var delivered = 0;
        var batch = FlushBatch.ForCurrentThread();
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

    private int RouteWhere(WhereFilter where, Publication publication)
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
        var delivered = 0;
        var batch = FlushBatch.ForCurrentThread();
        try
        {
            foreach (var connection in recipients)
            {
                if (connection.State != ConnectionState.Ready)
                {
                    continue;
                }
                var frame = connection.Kind == ConnectionKind.Plain ? publication.PlainFrame : publication.NativeFrame(null);
                delivered += connection.TrySend(frame, batch) ? 1 : 0;
            }
        }
        finally
        {
            batch?.Dispatch(); // every connection the batch took must be flushed
        }
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
