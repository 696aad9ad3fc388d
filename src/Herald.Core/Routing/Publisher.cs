using Herald.Core.Attributes;
using Herald.Core.Channels;
using Herald.Core.Connections;
using Herald.Core.Engine;
using Herald.Core.Sessions;
using Herald.Protocol;
using Microsoft.Extensions.Logging;

namespace Herald.Core.Routing;

/// <summary>
/// The one publish path, for every source (UDP, the HTTP API, a client session) and every engine: checks the request
/// against the channel policy, sends the publication to the broker topic of each target, and folds the broker's
/// answers into one <see cref="PublishResult"/>. Delivery is not here: every node delivers what its broker hands it
/// (<see cref="Hub.BrokerReceiver"/>). Idempotency keys are honoured here, on this node and, on a cluster, in the
/// engine's shared store. Thread-safe.
/// </summary>
internal sealed class Publisher(IBroker broker, ChannelPolicy policy, IdempotencyCache idempotency, IIdempotencyStore? sharedIdempotency,
    StoreHealth store, NodeOptions options, NodeCounters counters, string nodeId, TimeProvider time, ILogger logger) : IPublisher
{
    private readonly IBroker _broker = broker;
    private readonly ChannelPolicy _policy = policy;
    private readonly IdempotencyCache _idempotency = idempotency;
    private readonly IIdempotencyStore? _sharedIdempotency = sharedIdempotency;
    private readonly StoreHealth _store = store;
    private readonly NodeOptions _options = options;
    private readonly NodeCounters _counters = counters;
    private readonly string _nodeId = nodeId;
    private readonly TimeProvider _time = time;
    private readonly ILogger _logger = logger;
    private long _nextPublishId;

    /// <summary>
    /// Publishes through the engine's broker, one path for a single node and a cluster: each target channel with
    /// history (and each target user, when inboxes are on) gets the publication appended and handed out in one step,
    /// in offset order, and every node delivers what the broker hands it (<see cref="Hub.BrokerReceiver"/>). Each frame
    /// is encoded once and shared by all recipients; a recipient whose send queue is full is disconnected instead of
    /// slowing the others. On a single node the result counts the connections reached; in a cluster they are reached on
    /// every node as the broker hands the publication out, so the count is unknown here (-1).
    /// </summary>
    public ValueTask<PublishResult> PublishAsync(PublishRequest request, CancellationToken cancellation = default) =>
        PublishAsync(request, FlushDispatch.Inline, cancellation);

    /// <summary>
    /// As <see cref="PublishAsync(PublishRequest, CancellationToken)"/>, with the socket sends of this node's fan-out run
    /// as <paramref name="dispatch"/> says (UDP ingress hands them to the thread pool so its thread gets back to reading).
    /// </summary>
    public ValueTask<PublishResult> PublishAsync(PublishRequest request, FlushDispatch dispatch, CancellationToken cancellation = default)
    {
        if (request.Where is { } filter && !filter.IsWithin(_options.MaxWhereValues, out var whereError))
        {
            return new ValueTask<PublishResult>(new PublishResult(0, ErrorCodes.LimitExceeded, whereError));
        }
        return request.IdempotencyKey is { } key
            ? PublishOnceForKeyAsync(key, request, dispatch, cancellation)
            : PublishOnceAsync(request, dispatch, cancellation);
    }

    /// <summary>
    /// A publish with an idempotency key: a repeat within the window is answered with the first one's result. (Its own
    /// method: the lambda's captured state would otherwise be allocated for every publish, keyed or not.)
    /// </summary>
    private ValueTask<PublishResult> PublishOnceForKeyAsync(string key, PublishRequest request, FlushDispatch dispatch, CancellationToken cancellation) =>
        _idempotency.RunOnceAsync(key, () => _sharedIdempotency is null
            ? PublishOnceAsync(request, dispatch, cancellation).AsTask()
            : PublishOnceInClusterAsync(_sharedIdempotency, key, request, dispatch, cancellation));

    /// <summary>
    /// Sends the publication to the broker topic of every target and folds the answers into one result. Completes
    /// without an async step when the broker answers at once: the seed's most common publish (attributes only, on one
    /// node) is most of what UDP ingress does at high rates.
    /// </summary>
    private ValueTask<PublishResult> PublishOnceAsync(PublishRequest request, FlushDispatch dispatch, CancellationToken cancellation)
    {
        var channels = request.Channels;
        var histories = channels.Length == 0 ? [] : new RetentionLimits[channels.Length];
        for (var i = 0; i < channels.Length; i++)
        {
            if (_policy.Resolve(channels[i], out var error) is not { } ns)
            {
                return new ValueTask<PublishResult>(new PublishResult(0, ErrorCodes.UnknownNamespace, error));
            }
            histories[i] = ns.History;
        }
        var targets = channels.Length + request.Users.Length;
        if (targets == 0 && request.Where is null)
        {
            return new ValueTask<PublishResult>(new PublishResult(0));
        }
        var publication = new Publication(request, dispatch);
        var message = new BrokerMessage
        {
            Kind = BrokerMessageKind.Publication,
            Data = request.Data,
            DataIsString = request.DataIsString,
            Where = request.Where is { } where && !_broker.IsLocal ? AttributeJson.WriteWhere(where) : null,
            Origin = _nodeId,
            PublishId = targets > 1 && !_broker.IsLocal ? _nodeId + "." + Interlocked.Increment(ref _nextPublishId).ToString(System.Globalization.CultureInfo.InvariantCulture) : "",
            Targets = Math.Max(1, targets),
            Event = request.Event,
            Exclude = request.ExceptConnection ?? "",
            Local = _broker.IsLocal ? publication : null,
        };
        // A publish narrowed by "where" reaches only some of a channel's subscribers (or of a user's devices): it is
        // delivered live but never stored, so recovery and the inbox cannot hand it to a connection it did not match.
        var storable = request.Where is null;
        var outcome = new PublishOutcome();
        List<(BrokerTopic Topic, bool Stored, ValueTask<StreamPosition> Send)>? pending = null;
        for (var i = 0; i < Math.Max(1, targets); i++)
        {
            var (topic, stream) = targets == 0 ? (BrokerTopic.Broadcast, null)
                : i < channels.Length ? (BrokerTopic.Channel(channels[i]), storable && histories[i].Enabled ? histories[i] : (RetentionLimits?)null)
                : (BrokerTopic.User(request.Users[i - channels.Length]), storable && InboxLimits.Enabled ? InboxLimits : (RetentionLimits?)null);
            ValueTask<StreamPosition> send;
            try
            {
                send = _broker.PublishAsync(topic, message, stream, cancellation);
            }
            catch (Exception ex)
            {
                send = ValueTask.FromException<StreamPosition>(ex);
            }
            if (pending is null && send.IsCompletedSuccessfully)
            {
                outcome.Add(topic, stream is not null, send.Result);
            }
            else
            {
                (pending ??= new(Math.Max(1, targets - i))).Add((topic, stream is not null, send));
            }
        }
        return pending is null
            ? new ValueTask<PublishResult>(Finish(ref outcome, publication))
            : AwaitSendsAsync(pending, outcome, publication);
    }

    private async ValueTask<PublishResult> AwaitSendsAsync(List<(BrokerTopic Topic, bool Stored, ValueTask<StreamPosition> Send)> pending,
        PublishOutcome outcome, Publication publication)
    {
        foreach (var (topic, stored, send) in pending)
        {
            try
            {
                outcome.Add(topic, stored, await send.ConfigureAwait(false));
            }
            catch (StoreUnavailableException ex)
            {
                outcome.Failed(topic, ex);
            }
        }
        return Finish(ref outcome, publication);
    }

    private PublishResult Finish(ref PublishOutcome outcome, Publication publication)
    {
        _counters.Published(); // deliveries are counted where they are made (Hub.BrokerReceiver)
        var delivered = _broker.IsLocal ? publication.Delivered : -1;
        if (outcome.Failure is { } failure)
        {
            _store.Failed(failure);
            var error = failure.DeliveredLive
                ? "storage failed, the publish was delivered live but not stored, so it cannot be recovered: " + failure.Message
                : $"the cluster's engine is unavailable, the publish did not reach {string.Join(", ", outcome.FailedTopics!)}; retry it (with an idempotency_key to make retries safe): {failure.Message}";
            return new PublishResult(delivered, ErrorCodes.StoreUnavailable, error) { Positions = outcome.Positions, InboxOffsets = outcome.InboxOffsets };
        }
        if (outcome.Stored)
        {
            _store.Recovered(); // only a write that reached the store says it works again
        }
        return new PublishResult(delivered) { Positions = outcome.Positions, InboxOffsets = outcome.InboxOffsets };
    }

    /// <summary>What the broker answered for each target of one publish.</summary>
    private struct PublishOutcome
    {
        public Dictionary<string, StreamPosition>? Positions;
        public Dictionary<string, ulong>? InboxOffsets;
        public StoreUnavailableException? Failure;
        public List<string>? FailedTopics;
        public bool Stored;

        public void Add(BrokerTopic topic, bool stored, StreamPosition position)
        {
            if (!stored)
            {
                return;
            }
            Stored = true;
            if (topic.Kind == BrokerTopicKind.Channel)
            {
                (Positions ??= new(StringComparer.Ordinal))[topic.Name] = position;
            }
            else
            {
                (InboxOffsets ??= new(StringComparer.Ordinal))[topic.Name] = position.Offset;
            }
        }

        public void Failed(BrokerTopic topic, StoreUnavailableException failure)
        {
            Failure ??= failure;
            (FailedTopics ??= []).Add(topic.ToString());
        }
    }

    /// <summary>
    /// A publish with an idempotency key on a cluster: the key is claimed in the shared store first, so a retry that
    /// reaches another node is answered with the first publish's result instead of publishing again. A failed publish
    /// gives the key up, so the retry publishes.
    /// </summary>
    private async Task<PublishResult> PublishOnceInClusterAsync(IIdempotencyStore store, string key, PublishRequest request, FlushDispatch dispatch,
        CancellationToken cancellation)
    {
        var window = _options.IdempotencyWindow;
        try
        {
            var started = _time.GetTimestamp();
            while (!await store.TryClaimAsync(key, window, cancellation).ConfigureAwait(false))
            {
                // Claimed by a publish on some node: answer with its result once stored, or publish after all if it
                // failed (the key is free again).
                if (await store.GetResultAsync(key, cancellation).ConfigureAwait(false) is { } stored)
                {
                    return PublishResultJson.Read(stored, 0) with { Duplicate = true };
                }
                if (_time.GetElapsedTime(started) > TimeSpan.FromSeconds(10))
                {
                    return new PublishResult(0) { Duplicate = true }; // the first one is still running: it will publish
                }
                await Task.Delay(TimeSpan.FromMilliseconds(20), _time, cancellation).ConfigureAwait(false);
            }
        }
        catch (StoreUnavailableException ex)
        {
            _store.Failed(ex);
            return new PublishResult(-1, ErrorCodes.StoreUnavailable, "the cluster's engine is unavailable, the publish was not sent; retry it: " + ex.Message);
        }
        var result = await PublishOnceAsync(request, dispatch, cancellation).ConfigureAwait(false);
        try
        {
            if (result.Succeeded)
            {
                await store.CompleteAsync(key, PublishResultJson.Write(result), window, CancellationToken.None).ConfigureAwait(false);
            }
            else
            {
                await store.ReleaseAsync(key, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (StoreUnavailableException ex)
        {
            // Published (or not) all the same; a retry then waits for a result that never comes and answers "duplicate".
            NodeLog.BrokerFailed(_logger, "recording the idempotency key of", "a publish", ex.Message);
        }
        return result;
    }

    private RetentionLimits InboxLimits => new(_options.InboxSize, _options.InboxTtl);
}
