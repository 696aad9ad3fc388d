using Herald.Core.Apps;
using Herald.Core.Routing;
using Herald.Core.Sessions;

namespace Herald.Core.Protocols.Pusher;

/// <summary>
/// Client events (<c>client-*</c>): sent by a subscriber of a private or presence channel of an app with client_events
/// on, published through the node's one publish path to the channel's other subscribers (never back to the sender),
/// at most <see cref="PusherConnectionState.ClientEventsPerSecond"/> a second and max_event_size_kb each. Refused on
/// public and encrypted channels, from non-subscribers, and when the app does not allow them: <c>pusher:error</c>, the
/// connection lives on.
/// </summary>
internal static class PusherClientEvents
{
    public static async ValueTask SendAsync(ClientSession session, PusherConnectionState state, PusherRequest request)
    {
        var app = state.App;
        var channel = request.Channel;
        if (!app.ClientEvents)
        {
            PusherProtocol.Mistake(session, $"Client events are not enabled for app {app.Id} (app option client_events)");
            return;
        }
        if (channel is null || !state.Channels.ContainsKey(channel))
        {
            PusherProtocol.Mistake(session, $"Client event rejected: subscribe to {channel ?? "the channel (\"channel\" is missing)"} first");
            return;
        }
        if (!PusherChannelNames.IsPrivate(channel) || PusherChannelNames.IsEncrypted(channel))
        {
            PusherProtocol.Mistake(session, $"Client event rejected: client events are sent on private- and presence- channels only, not on {channel}");
            return;
        }
        if (request.Data.IsEmpty)
        {
            PusherProtocol.Mistake(session, "Client event rejected: it needs \"data\"");
            return;
        }
        if (request.Data.Length > app.MaxEventSizeBytes)
        {
            PusherProtocol.Mistake(session, $"Client event rejected: data of {request.Data.Length} bytes is over the limit of {app.MaxEventSizeBytes} bytes (app option max_event_size_kb)");
            return;
        }
        if (!state.TryTakeClientEvent(session.NowTicks))
        {
            PusherProtocol.Mistake(session, $"Client event rejected: more than {PusherConnectionState.ClientEventsPerSecond} client events per second", PusherCloseCodes.RateLimited);
            return;
        }
        var data = request.Data.ToArray();
        var publish = new PublishRequest([AppScope.Scope(app, channel)], null, data, dataIsString: data[0] == (byte)'"')
        {
            Event = request.Event,
            ExceptConnection = session.Connection.Id,
        };
        var result = await session.PublishAuthorizedAsync(publish).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            PusherProtocol.Mistake(session, "Client event not sent: " + result.Error);
        }
    }
}
