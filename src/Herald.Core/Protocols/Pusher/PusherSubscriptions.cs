using System.Text;
using System.Text.Json;
using Herald.Core.Apps;
using Herald.Core.Connections;
using Herald.Core.Sessions;

namespace Herald.Core.Protocols.Pusher;

/// <summary>
/// <c>pusher:subscribe</c> and <c>pusher:unsubscribe</c>: public channels, <c>private-</c> (signed over
/// <c>socket_id:channel</c>), <c>presence-</c> (signed over <c>socket_id:channel:channel_data</c>, the member list on
/// success), <c>private-encrypted-</c> (relayed unchanged), <c>cache-</c> variants (the last event replayed, else
/// <c>pusher:cache_miss</c>) and a signed-in user's <c>#server-to-user-{id}</c>.
/// </summary>
internal static class PusherSubscriptions
{
    /// <summary>Longest <c>channel_data</c> a presence subscription may carry (user id and info).</summary>
    private const int MaxChannelDataBytes = 8 * 1024;

    public static async ValueTask SubscribeAsync(ClientSession session, PusherConnectionState state, PusherRequest request)
    {
        var connection = session.Connection;
        using var data = request.DataObject();
        var channel = PusherRequest.StringField(data, "channel");
        if (channel is null)
        {
            PusherProtocol.Mistake(session, "pusher:subscribe needs data {\"channel\":...} with the channel name");
            return;
        }
        if (!PusherChannelNames.IsValid(channel))
        {
            Refused(connection, channel, "InvalidChannel", $"Invalid channel name '{channel}': channel names are {PusherChannelNames.Rule}", 400);
            return;
        }
        var app = state.App;
        var presence = PusherChannelNames.IsPresenceName(channel);
        if (PusherChannelNames.ServerToUserId(channel) is { } owner)
        {
            if (state.SignedInUser != owner)
            {
                Refused(connection, channel, "AuthError", $"Subscription to {channel} denied: only the signed-in user {owner} may subscribe (pusher:signin first)", 403);
                return;
            }
        }
        else if (PusherChannelNames.IsPrivate(channel))
        {
            var auth = PusherRequest.StringField(data, "auth");
            var channelData = presence ? PusherRequest.StringField(data, "channel_data") : null;
            if (presence && channelData is null)
            {
                Refused(connection, channel, "AuthError", $"Subscription to {channel} needs channel_data: the user_id and user_info your auth endpoint signed", 401);
                return;
            }
            var signed = presence ? PusherSignature.PresenceText(connection.Id, channel, channelData!) : PusherSignature.PrivateText(connection.Id, channel);
            if (!PusherSignature.IsValid(app, auth, signed))
            {
                Refused(connection, channel, "AuthError",
                    $"Invalid signature for {channel}: expected HMAC-SHA256 hex of '{signed}' keyed with the secret of app {app.Id}, as '{app.Key}:<signature>'", 401);
                return;
            }
            if (presence && !TryJoinAsUser(session, state, channel, channelData!))
            {
                return;
            }
        }
        var reply = new SubscribeReply(connection, state, channel, presence, PusherChannelNames.IsCache(channel));
        await session.SubscribeAuthorizedAsync(AppScope.Scope(app, channel), reply.Cache, presence, reply).ConfigureAwait(false);
    }

    /// <summary>Reads a presence subscription's <c>channel_data</c> and makes the connection that user.</summary>
    private static bool TryJoinAsUser(ClientSession session, PusherConnectionState state, string channel, string channelData)
    {
        var connection = session.Connection;
        string? userId = null;
        byte[]? info = null;
        if (Encoding.UTF8.GetByteCount(channelData) <= MaxChannelDataBytes)
        {
            try
            {
                using var document = JsonDocument.Parse(channelData);
                if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("user_id"u8, out var id))
                {
                    // The SDKs send user_id as given: a string, or a number some backends use.
                    userId = id.ValueKind switch
                    {
                        JsonValueKind.String => id.GetString(),
                        JsonValueKind.Number => id.GetRawText(),
                        _ => null,
                    };
                    if (document.RootElement.TryGetProperty("user_info"u8, out var userInfo))
                    {
                        info = Encoding.UTF8.GetBytes(userInfo.GetRawText());
                    }
                }
            }
            catch (JsonException)
            {
                userId = null;
            }
        }
        if (userId is null || !AppScope.IsScopable(userId) || userId.Length > PusherChannelNames.MaxLength)
        {
            Refused(connection, channel, "AuthError",
                $"Invalid channel_data for {channel}: a JSON object of at most {MaxChannelDataBytes} bytes with \"user_id\" (1 to {PusherChannelNames.MaxLength} characters, no spaces) and optional \"user_info\"", 400);
            return false;
        }
        if (!session.TryBecomeUser(AppScope.ScopeUser(state.App, userId), info, out var error))
        {
            Refused(connection, channel, "AuthError", $"Subscription to {channel} refused: {error.Message}", 403);
            return false;
        }
        return true;
    }

    public static async ValueTask UnsubscribeAsync(ClientSession session, PusherConnectionState state, PusherRequest request)
    {
        using var data = request.DataObject();
        var channel = PusherRequest.StringField(data, "channel");
        if (channel is null)
        {
            PusherProtocol.Mistake(session, "pusher:unsubscribe needs data {\"channel\":...} with the channel name");
            return;
        }
        if (state.Channels.TryRemove(channel, out _))
        {
            await session.UnsubscribeAuthorizedAsync(AppScope.Scope(state.App, channel), NoReply.Instance).ConfigureAwait(false);
        }
    }

    /// <summary>A refused subscription: <c>pusher:subscription_error</c> naming the channel; the connection lives on.</summary>
    private static void Refused(Connection connection, string channel, string type, string error, int status) =>
        connection.TrySend(PusherFrames.SubscriptionError(channel, type, error, status));

    /// <summary>Sends <c>subscription_succeeded</c> (with the members of a presence channel), then a cache channel's last event or cache miss.</summary>
    private sealed class SubscribeReply(Connection connection, PusherConnectionState state, string channel, bool presence, bool cache)
        : ICommandReply<AuthorizedSubscription>
    {
        public bool Cache => cache;

        public void Succeeded(AuthorizedSubscription result)
        {
            state.Channels[channel] = channel;
            connection.TrySend(presence ? PusherFrames.PresenceSucceeded(channel, Users(result.Members ?? [])) : PusherFrames.SubscriptionSucceeded(channel));
            if (cache)
            {
                connection.TrySend(result.Last is { } last ? PusherFrames.Stored(channel, last) : PusherFrames.CacheMiss(channel));
            }
        }

        public void Succeeded()
        {
        }

        public void Failed(CommandError error) => Refused(connection, channel, "ServerError", error.Message, 500);

        /// <summary>One entry per user (its first connection's info), in the store's order; anonymous Herald clients are not members.</summary>
        private List<(string Id, byte[]? Info)> Users(IReadOnlyList<Engine.PresenceEntry> members)
        {
            var scoped = AppScope.Scope(state.App, channel);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var users = new List<(string, byte[]?)>();
            foreach (var member in members)
            {
                if (member.UserId.Length > 0 && seen.Add(member.UserId))
                {
                    users.Add((AppScope.LocalUser(scoped, member.UserId), member.Info));
                }
            }
            return users;
        }
    }

    /// <summary>For steps whose outcome the client is not told (Pusher answers no unsubscribe).</summary>
    private sealed class NoReply : ICommandReply
    {
        public static readonly NoReply Instance = new();

        public void Succeeded()
        {
        }

        public void Failed(CommandError error)
        {
        }
    }
}
