using System.Text.Json;

namespace Herald.Client.Internal;

/// <summary>
/// Where the client stands in one subscribed channel's stream: the last offset handed to the app and the epoch it
/// belongs to. Guarded by the client's stream lock; changed only as replies and pushes are read, in wire order.
/// </summary>
internal sealed class ChannelStream
{
    /// <summary>The offset of the last publication handed to the app, or the position of the last subscribe reply.</summary>
    public ulong Offset { get; set; }

    /// <summary>The epoch of <see cref="Offset"/>; empty while unknown (a channel without history, or subscribed by the server).</summary>
    public string Epoch { get; set; } = "";

    /// <summary>Subscribed by connect, from the token's <c>channels</c> claim: recovered through connect's <c>since</c>.</summary>
    public bool FromToken { get; set; }

    /// <summary>The subscription token of a private channel, sent again when resubscribing.</summary>
    public string? Token { get; set; }

    /// <summary>
    /// Commands in flight whose reply sets the position (a subscribe or connect with <c>since</c>). While any is
    /// pending, live publications wait in <see cref="Held"/>: they are handled after the reply, whatever order the
    /// reply and the pushes were read in, so the recovered ones come first and nothing is skipped or repeated.
    /// </summary>
    public HashSet<ulong> PendingCalls { get; } = [];

    /// <summary>Live publications read while a reply is pending, in arrival order.</summary>
    public List<(ulong Offset, JsonElement Data, string? Event)> Held { get; } = [];

    /// <summary>The <c>since</c> to recover from, or null when nothing was received yet and the epoch is unknown.</summary>
    public (ulong Offset, string Epoch)? Since => Epoch.Length > 0 || Offset > 0 ? (Offset, Epoch) : null;
}
