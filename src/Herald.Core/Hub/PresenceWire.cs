using System.Text.Json;
using Herald.Core.Protocols;
using Herald.Protocol;

namespace Herald.Core.Hub;

/// <summary>
/// How a join or leave travels between nodes (a <see cref="Engine.BrokerMessageKind.Frame"/> message on the channel's
/// topic): as the herald.v1 push frame, exactly what nodes of earlier builds send and deliver as it is. Keeping that
/// wire lets old and new nodes run side by side during a rolling upgrade; a node of this build reads the frame back
/// into a <see cref="PresenceChanged"/> and has each client's protocol encode it in its own words.
/// </summary>
internal static class PresenceWire
{
    /// <summary>The message data for <paramref name="change"/>.</summary>
    public static byte[] Write(PresenceChanged change)
    {
        var frame = ServerFrames.Presence(change.Joined ? ProtocolNames.Pushes.Join : ProtocolNames.Pushes.Leave,
            change.Channel, change.Client, change.User, change.Info);
        if (!change.PusherOnly)
        {
            return frame;
        }
        // One more field before the closing brace. A node of an earlier build delivers the frame as it is (its native
        // clients see a join of a Pusher presence channel during a rolling upgrade); this build reads it back.
        return [.. frame.AsSpan(0, frame.Length - 1), .. PusherOnlyField];
    }

    private static ReadOnlySpan<byte> PusherOnlyField => ",\"pusher_only\":true}"u8;

    /// <summary>Reads a join or leave from a frame message; false for any other frame (nothing to deliver).</summary>
    public static bool TryRead(byte[] frame, out PresenceChanged change)
    {
        change = null!;
        try
        {
            using var document = JsonDocument.Parse(frame);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("push"u8, out var push)
                || !root.TryGetProperty("channel"u8, out var channel) || !root.TryGetProperty("client"u8, out var client))
            {
                return false;
            }
            var joined = push.ValueEquals(ProtocolNames.Pushes.Join);
            if (!joined && !push.ValueEquals(ProtocolNames.Pushes.Leave))
            {
                return false;
            }
            var user = root.TryGetProperty("user"u8, out var u) && u.ValueKind == JsonValueKind.String ? u.GetString()! : "";
            var info = root.TryGetProperty("info"u8, out var i) ? JsonMarshalRaw(i) : ReadOnlyMemory<byte>.Empty;
            var pusherOnly = root.TryGetProperty("pusher_only"u8, out var p) && p.ValueKind == JsonValueKind.True;
            change = new PresenceChanged(channel.GetString() ?? "", client.GetString() ?? "", user, info, joined) { PusherOnly = pusherOnly };
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false; // a property of the wrong type
        }
    }

    private static byte[] JsonMarshalRaw(JsonElement element) => System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element).ToArray();
}
