using Herald.Core.Attributes;

namespace Herald.Core.Routing;

/// <summary>
/// A publish from a backend (UDP datagram, HTTP API) or a native client: the data and who receives it.
/// Targets: <see cref="Channels"/> (their subscribers) and <see cref="Users"/> (their connections), filtered by
/// <see cref="Where"/> when given; <see cref="Where"/> alone selects every connection whose attributes match.
/// </summary>
public sealed class PublishRequest
{
    /// <summary>Creates a request; <paramref name="data"/> is raw JSON owned by the request.</summary>
    public PublishRequest(string[] channels, WhereFilter? where, byte[] data, bool dataIsString, string[]? users = null, string? idempotencyKey = null)
    {
        IdempotencyKey = idempotencyKey;
        Channels = channels;
        Users = users ?? [];
        Where = where;
        Data = data;
        DataIsString = dataIsString;
    }

    /// <summary>Target channels, distinct; empty when the publish targets attributes only.</summary>
    public string[] Channels { get; }

    /// <summary>Target users (every connection of each), distinct; empty when none.</summary>
    public string[] Users { get; }

    /// <summary>A key that makes retries safe: a repeat within the window is acknowledged again but stored and delivered once.</summary>
    public string? IdempotencyKey { get; }

    /// <summary>The attribute filter, or null when there is none.</summary>
    public WhereFilter? Where { get; }

    /// <summary>
    /// The publication's data as raw JSON text (UTF-8), copied to recipients as it is: valid text, as checked where it
    /// entered (<see cref="Herald.Protocol.JsonText"/>), so that no recipient receives text it must reject.
    /// </summary>
    public byte[] Data { get; }

    /// <summary>Whether <see cref="Data"/> is a JSON string (plain clients then receive the string itself).</summary>
    public bool DataIsString { get; }

    /// <summary>
    /// The event name the publication carries (the Pusher protocol's <c>event</c>; null: none, which Pusher clients
    /// receive as <c>message</c>). Kept with the publication wherever it travels: broker, history, inbox.
    /// </summary>
    public string? Event { get; init; }

    /// <summary>
    /// The id of a connection that must not receive this publish although it is a target (the Pusher API's
    /// <c>socket_id</c>: the sender of an event that it already shows); null when none.
    /// </summary>
    public string? ExceptConnection { get; init; }
}
