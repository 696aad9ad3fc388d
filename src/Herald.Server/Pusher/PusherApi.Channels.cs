using System.Text.Json;
using Herald.Core.Apps;
using Herald.Core.Control;
using Herald.Protocol;
using Microsoft.AspNetCore.Http;

namespace Herald.Server.Pusher;

/// <summary>
/// Channel queries (<c>GET channels</c>, <c>channels/{name}</c>, <c>channels/{name}/users</c>) and
/// <c>POST users/{id}/terminate_connections</c>. Counts come from presence, which every node shares on the Redis
/// engine; the list of channels is this node's (the engine keeps no cluster-wide list of channels).
/// </summary>
internal sealed partial class PusherApi
{
    /// <summary>Most channels one list walks, and most members one user list reads: bounds on a query's work.</summary>
    private const int MaxListed = 100_000;

    /// <summary>A channel's counts as the API shows them; null members are not shown.</summary>
    private readonly record struct ChannelAttributes(int? UserCount, int? SubscriptionCount);

    private async Task ChannelsAsync(HttpContext context, AppOptions app)
    {
        var filter = context.Request.Query["filter_by_prefix"].ToString();
        var info = ReadInfo(context.Request.Query["info"].ToString(), presenceOnly: PusherNames.IsPresence(filter));
        var cancellation = context.RequestAborted;
        var channels = new List<(string Name, ChannelAttributes Attributes)>();
        var prefix = AppScope.Prefix(app) + filter;
        string? cursor = null;
        while (channels.Count < MaxListed)
        {
            var page = node.ChannelsPage(prefix.Length == 0 ? null : prefix, cursor, 1000);
            foreach (var (scoped, _) in page.Take(1000))
            {
                // The default app's list skips other apps' channels (their names hold a space) and Herald's own
                // names that no Pusher client could use.
                if (AppScope.TryUnscope(app, scoped, out var name) && PusherNames.IsValidChannel(name))
                {
                    var attributes = new ChannelAttributes();
                    if (info != InfoAttributes.None)
                    {
                        var (subscriptions, users) = await ChannelCountsAsync(scoped, cancellation).ConfigureAwait(false);
                        attributes = new ChannelAttributes(info.HasFlag(InfoAttributes.UserCount) ? users : null,
                            info.HasFlag(InfoAttributes.SubscriptionCount) ? subscriptions : null);
                    }
                    channels.Add((name, attributes));
                }
            }
            if (page.Count <= 1000)
            {
                break;
            }
            cursor = page[999].Channel;
        }
        await WriteJsonAsync(context, channels, static (w, list) =>
        {
            w.WriteStartObject("channels"u8);
            foreach (var (name, attributes) in list)
            {
                w.WritePropertyName(name);
                WriteAttributes(w, attributes);
            }
            w.WriteEndObject();
        }).ConfigureAwait(false);
    }

    private async Task ChannelAsync(HttpContext context, AppOptions app, string channel)
    {
        CheckChannel(channel);
        var info = ReadInfo(context.Request.Query["info"].ToString(), presenceOnly: PusherNames.IsPresence(channel));
        var (subscriptions, users) = await ChannelCountsAsync(AppScope.Scope(app, channel), context.RequestAborted).ConfigureAwait(false);
        await WriteJsonAsync(context, (subscriptions, users, info), static (w, s) =>
        {
            w.WriteBoolean("occupied"u8, s.subscriptions > 0);
            if (s.info.HasFlag(InfoAttributes.UserCount))
            {
                w.WriteNumber("user_count"u8, s.users);
            }
            if (s.info.HasFlag(InfoAttributes.SubscriptionCount))
            {
                w.WriteNumber("subscription_count"u8, s.subscriptions);
            }
        }).ConfigureAwait(false);
    }

    private async Task ChannelUsersAsync(HttpContext context, AppOptions app, string channel)
    {
        CheckChannel(channel);
        if (!PusherNames.IsPresence(channel))
        {
            throw BadRequest($"Users are only listed for presence channels; '{channel}' is not one (its name does not start with presence-)");
        }
        var scoped = AppScope.Scope(app, channel);
        var users = new SortedSet<string>(StringComparer.Ordinal);
        string? cursor = null;
        var read = 0;
        do
        {
            var page = await node.PresenceAsync(scoped, cursor, 1000, context.RequestAborted).ConfigureAwait(false);
            foreach (var member in page.Members)
            {
                if (member.UserId.Length > 0 && AppScope.TryUnscopeUser(app, member.UserId, out var user))
                {
                    users.Add(user);
                }
            }
            read += page.Members.Count;
            cursor = page.NextCursor;
        }
        while (cursor is not null && read < MaxListed);
        await WriteJsonAsync(context, users, static (w, list) =>
        {
            w.WriteStartArray("users"u8);
            foreach (var user in list)
            {
                w.WriteStartObject();
                w.WriteString("id"u8, user);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }).ConfigureAwait(false);
    }

    private async Task TerminateAsync(HttpContext context, AppOptions app, string user)
    {
        if (!PusherNames.IsValidUserId(user))
        {
            throw BadRequest($"Invalid user id '{user}': 1 to {PusherNames.MaxNameLength} characters without whitespace");
        }
        // Through the control path: the user's connections on every node are closed, with Pusher's 4009.
        var command = new DisconnectCommand(ControlTarget.User(AppScope.ScopeUser(app, user)), DisconnectCodes.UserTerminated, "connections terminated by the server");
        try
        {
            await node.ControlAsync(command, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Herald.Core.NodeRequestException ex) when (ex.Code == ErrorCodes.StoreUnavailable)
        {
            throw new PusherApiException(StatusCodes.Status503ServiceUnavailable, "Terminated on this node only: " + ex.Message);
        }
        await WriteJsonAsync(context, 0, static (_, _) => { }).ConfigureAwait(false);
    }

    /// <summary>
    /// A channel's subscriptions and distinct users, cluster-wide: presence records every subscriber on every node; this
    /// node's own count covers channels whose namespace keeps no presence.
    /// </summary>
    private async Task<(int Subscriptions, int Users)> ChannelCountsAsync(string scoped, CancellationToken cancellation)
    {
        var stats = await node.PresenceStatsAsync(scoped, cancellation).ConfigureAwait(false);
        return (Math.Max(stats.Connections, node.SubscriberCount(scoped)), stats.Users);
    }

    private static void CheckChannel(string channel)
    {
        if (!PusherNames.IsValidChannel(channel))
        {
            throw BadRequest($"Invalid channel name '{channel}': 1 to {PusherNames.MaxNameLength} characters of A-Z, a-z, 0-9 and _ - = @ , . ;");
        }
    }

    private static void WriteAttributes(Utf8JsonWriter w, ChannelAttributes attributes)
    {
        w.WriteStartObject();
        if (attributes.UserCount is { } users)
        {
            w.WriteNumber("user_count"u8, users);
        }
        if (attributes.SubscriptionCount is { } subscriptions)
        {
            w.WriteNumber("subscription_count"u8, subscriptions);
        }
        w.WriteEndObject();
    }
}
