using System.Text;
using System.Text.Json;
using Herald.Core;
using Herald.Core.Attributes;
using Herald.Core.Channels;
using Herald.Core.Connections;
using Herald.Core.Control;
using Herald.Protocol;
using Microsoft.AspNetCore.Http;

namespace Herald.Server.Api;

/// <summary>Presence, online state and control from the backend: the methods a PHP push server's API had, and more.</summary>
internal sealed partial class HttpApi
{
    private async Task PresenceMethodAsync(HttpContext context, string method, JsonElement root)
    {
        var cancellation = context.RequestAborted;
        switch (method)
        {
            case "online":
            {
                if (!root.TryGetProperty("users", out var users) || users.ValueKind != JsonValueKind.Array || users.EnumerateArray().Any(u => u.ValueKind != JsonValueKind.String))
                {
                    throw new NodeRequestException(ErrorCodes.BadRequest, "online needs \"users\": an array of user ids");
                }
                var online = await node.OnlineAsync(users.EnumerateArray().Select(u => u.GetString()!).Take(10_000), cancellation).ConfigureAwait(false);
                var totalConnections = engine.Redis is null ? node.ConnectionCount : (await NodesAsync(cancellation).ConfigureAwait(false)).Sum(n => n.Connections);
                await WriteJsonAsync(context, (online, totalConnections), (w, o) =>
                {
                    w.WriteStartObject("users"u8);
                    foreach (var (user, connections) in o.online.Users)
                    {
                        w.WriteStartObject(user);
                        w.WriteBoolean("online"u8, connections > 0);
                        w.WriteNumber("connections"u8, connections);
                        w.WriteEndObject();
                    }
                    w.WriteEndObject();
                    w.WriteNumber("total_connections"u8, o.totalConnections);
                    w.WriteNumber("total_users"u8, o.online.TotalUsers);
                }).ConfigureAwait(false);
                break;
            }
            case "presence":
            {
                var page = await node.PresenceAsync(RequiredChannel(root), OptionalString(root, "cursor"), OptionalInt(root, "limit") ?? 100, cancellation).ConfigureAwait(false);
                await WriteJsonAsync(context, page, static (w, p) => Node.WritePresencePage(w, p)).ConfigureAwait(false);
                break;
            }
            case "presence_stats":
            {
                var stats = await node.PresenceStatsAsync(RequiredChannel(root), cancellation).ConfigureAwait(false);
                await WriteJsonAsync(context, stats, static (w, s) =>
                {
                    w.WriteNumber("connections"u8, s.Connections);
                    w.WriteNumber("users"u8, s.Users);
                }).ConfigureAwait(false);
                break;
            }
            case "channels":
            {
                var limit = Math.Clamp(OptionalInt(root, "limit") ?? 100, 1, 1000);
                var page = node.ChannelsPage(OptionalString(root, "prefix"), OptionalString(root, "cursor"), limit);
                await WriteJsonAsync(context, (page, limit), static (w, s) =>
                {
                    w.WriteStartArray("channels"u8);
                    foreach (var (channel, subscribers) in s.page.Take(s.limit))
                    {
                        w.WriteStartObject();
                        w.WriteString("channel"u8, channel);
                        w.WriteNumber("subscribers"u8, subscribers);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    if (s.page.Count > s.limit)
                    {
                        w.WriteString("cursor"u8, s.page[s.limit - 1].Channel); // another page follows
                    }
                }).ConfigureAwait(false);
                break;
            }
            case "count":
            {
                var where = Where(root, node.Options.MaxWhereValues);
                var (connections, users) = node.Count(where);
                var list = root.TryGetProperty("list", out var l) && l.ValueKind == JsonValueKind.True;
                var limit = OptionalInt(root, "limit") ?? 100;
                var page = list ? node.ConnectionsMatching(where, OptionalString(root, "cursor"), limit) : [];
                await WriteJsonAsync(context, (connections, users, list, page, limit), static (w, s) =>
                {
                    w.WriteNumber("connections"u8, s.connections);
                    w.WriteNumber("users"u8, s.users);
                    if (!s.list)
                    {
                        return;
                    }
                    var limit = Math.Clamp(s.limit, 1, 1000);
                    w.WriteStartArray("clients"u8);
                    foreach (var connection in s.page.Take(limit))
                    {
                        WriteClient(w, connection);
                    }
                    w.WriteEndArray();
                    if (s.page.Count > limit)
                    {
                        w.WriteString("cursor"u8, s.page[limit - 1].Id); // another page follows
                    }
                }).ConfigureAwait(false);
                break;
            }
            case "disconnect":
            {
                var target = Target(root);
                var reconnect = !root.TryGetProperty("reconnect", out var r) || r.ValueKind != JsonValueKind.False;
                var code = OptionalInt(root, "code") ?? (reconnect ? DisconnectCodes.ForceReconnect : DisconnectCodes.ForceDisconnect);
                if (code is < 4000 or > 4999)
                {
                    throw new NodeRequestException(ErrorCodes.BadRequest, "\"code\" must be from 4000 to 4999 (4000-4499: the client reconnects; 4500-4999: it does not)");
                }
                var reason = OptionalString(root, "reason") ?? "disconnected by the server";
                var disconnected = await node.ControlAsync(new DisconnectCommand(target, code, reason), cancellation).ConfigureAwait(false);
                await WriteJsonAsync(context, disconnected, static (w, n) => w.WriteNumber("disconnected"u8, n)).ConfigureAwait(false);
                break;
            }
            case "subscribe":
            case "unsubscribe":
            {
                var target = Target(root);
                var channel = RequiredChannel(root);
                ControlCommand command = method == "subscribe" ? new SubscribeCommand(target, channel) : new UnsubscribeCommand(target, channel);
                var changed = await node.ControlAsync(command, cancellation).ConfigureAwait(false);
                await WriteJsonAsync(context, changed, static (w, n) => w.WriteNumber("connections"u8, n)).ConfigureAwait(false);
                break;
            }
            case "attributes":
            {
                var target = Target(root);
                if (!root.TryGetProperty("attrs", out var attrs))
                {
                    throw new NodeRequestException(ErrorCodes.BadRequest, "attributes needs \"attrs\": an object of attributes");
                }
                if (!AttributeJson.TryParseAttributes(Encoding.UTF8.GetBytes(attrs.GetRawText()), node.Options.MaxAttributes, out var set, out var code, out var error))
                {
                    throw new NodeRequestException(code, "attrs: " + error);
                }
                var changed = await node.ControlAsync(new SetAttributesCommand(target, set), cancellation).ConfigureAwait(false);
                await WriteJsonAsync(context, changed, static (w, n) => w.WriteNumber("connections"u8, n)).ConfigureAwait(false);
                break;
            }
        }

    }

    private static void WriteClient(Utf8JsonWriter w, Connection connection)
    {
        w.WriteStartObject();
        w.WriteString("client"u8, connection.Id);
        w.WriteString("user"u8, connection.UserId);
        w.WriteString("remote"u8, connection.RemoteAddress);
        w.WriteStartObject("attrs"u8);
        foreach (var (key, value) in connection.Attributes.Pairs)
        {
            w.WriteString(key, value);
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>
    /// The target named by <c>"client"</c> (one connection id) or <c>"user"</c> (all of that user's connections), on
    /// whichever node they are.
    /// </summary>
    private static ControlTarget Target(JsonElement root)
    {
        var client = OptionalString(root, "client");
        var user = OptionalString(root, "user");
        if ((client is null) == (user is null))
        {
            throw new NodeRequestException(ErrorCodes.BadRequest, "name exactly one target: \"user\" (every connection of that user) or \"client\" (one connection id)");
        }
        return client is not null ? ControlTarget.Client(client) : ControlTarget.User(user!);
    }

    private static string RequiredChannel(JsonElement root)
    {
        var channel = RequiredString(root, "channel");
        return ChannelName.IsValid(channel, out var error) ? channel : throw new NodeRequestException(ErrorCodes.InvalidChannel, error);
    }

    private static string? OptionalString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString()!.Length > 0 ? value.GetString() : null;

    private static WhereFilter Where(JsonElement root, int maxValues)
    {
        if (!root.TryGetProperty("where", out var where))
        {
            throw new NodeRequestException(ErrorCodes.BadRequest, "count needs \"where\" (use {} for every connection)");
        }
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(where.GetRawText()));
        reader.Read();
        if (!AttributeJson.TryReadWhere(ref reader, out var filter, out var error))
        {
            throw new NodeRequestException(ErrorCodes.BadRequest, error);
        }
        return filter.IsWithin(maxValues, out error) ? filter : throw new NodeRequestException(ErrorCodes.LimitExceeded, error);
    }
}
