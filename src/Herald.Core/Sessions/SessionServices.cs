using Herald.Core.Auth;
using Herald.Core.Channels;
using Herald.Core.Connections;
using Herald.Core.Engine;
using Herald.Core.Housekeeping;
using Herald.Core.Hub;
using Microsoft.Extensions.Logging;

namespace Herald.Core.Sessions;

/// <summary>
/// What a <see cref="ClientSession"/> works with, handed to it explicitly: the hub (tables and stream gates), the
/// membership steps (subscribe, unsubscribe, a user's connections), the channel policy, the token verifier, the stores,
/// the publisher, the settings, the clock and the logs. One per node, shared by every session; the session itself keeps
/// no state of its own.
/// </summary>
internal sealed class SessionServices(
    ConnectionHub hub,
    Membership membership,
    ChannelPolicy policy,
    ITokenVerifier? verifier,
    IHistoryStore history,
    IInboxStore inbox,
    IPresenceStore presence,
    IPublisher publisher,
    StoreHealth store,
    NodeOptions options,
    MonotonicClock clock,
    TimeProvider time,
    ILogger logger)
{
    // Connections per Pusher app on this node (app option max_connections), by app id.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _appConnections = new(StringComparer.Ordinal);

    // Clients cannot fill the log: one line per kind of mistake every 10 s.
    private readonly LogThrottle _mistakeLog = LogThrottle.Default(time);

    public ConnectionHub Hub => hub;

    public Membership Membership => membership;

    public ChannelPolicy Policy => policy;

    /// <summary>Verifies tokens; null when the server has no key (every token is refused as not configured).</summary>
    public ITokenVerifier? Verifier => verifier;

    public IHistoryStore History => history;

    public IInboxStore Inbox => inbox;

    public IPresenceStore Presence => presence;

    public IPublisher Publisher => publisher;

    /// <summary>Whether storage works (health reports its last error).</summary>
    public StoreHealth Store => store;

    public NodeOptions Options => options;

    /// <summary>The node's monotonic clock (ticks of connection activity and expiry).</summary>
    public MonotonicClock Clock => clock;

    /// <summary>Wall-clock time (a token's expiry is a date).</summary>
    public TimeProvider Time => time;

    public ILogger Logger => logger;

    /// <summary>How much each user's inbox keeps (size 0: no inboxes).</summary>
    public RetentionLimits InboxLimits => new(options.InboxSize, options.InboxTtl);

    /// <summary>Counts a connection of <paramref name="app"/> on this node; false when the app has max_connections already.</summary>
    public bool TryCountAppConnection(Apps.AppOptions app)
    {
        while (true)
        {
            if (!_appConnections.TryGetValue(app.Id, out var count))
            {
                if (_appConnections.TryAdd(app.Id, 1))
                {
                    return true;
                }
                continue; // another connection of the app added it first
            }
            if (app.MaxConnections > 0 && count >= app.MaxConnections)
            {
                return false;
            }
            if (_appConnections.TryUpdate(app.Id, count + 1, count))
            {
                return true;
            }
        }
    }

    /// <summary>Gives back a connection counted by <see cref="TryCountAppConnection"/>.</summary>
    public void ReleaseAppConnection(Apps.AppOptions app) => _appConnections.AddOrUpdate(app.Id, 0, static (_, count) => Math.Max(0, count - 1));

    /// <summary>Logs a client's bad message: a debug line per kind of mistake (the error code) and interval.</summary>
    public void ClientMistake(Connection connection, int code, string error)
    {
        if (_mistakeLog.ShouldLog(code.ToString(System.Globalization.CultureInfo.InvariantCulture), out var suppressed))
        {
            NodeLog.BadClientMessage(logger, connection.Id, error, LogThrottle.Note(suppressed));
        }
    }
}
