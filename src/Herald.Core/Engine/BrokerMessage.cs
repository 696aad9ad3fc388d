namespace Herald.Core.Engine;

/// <summary>What a broker message asks the nodes to do.</summary>
public enum BrokerMessageKind : byte
{
    /// <summary>Deliver a publication to the topic's connections (or, on the broadcast topic, to those matching <see cref="BrokerMessage.Where"/>).</summary>
    Publication = (byte)'P',

    /// <summary>Deliver a join or leave to the channel's subscribers; the data is the herald.v1 push, as earlier builds send it (Hub/PresenceWire).</summary>
    Frame = (byte)'F',

    /// <summary>Apply a control command (<see cref="BrokerMessage.Data"/> is its JSON) to this node's connections.</summary>
    Control = (byte)'C',
}

/// <summary>
/// One message through the broker. For a publication appended to a stream, <see cref="Offset"/> and
/// <see cref="Epoch"/> are assigned by the broker in the same atomic step as the append and arrive with it.
/// </summary>
public sealed class BrokerMessage
{
    /// <summary>What the message asks for.</summary>
    public required BrokerMessageKind Kind { get; init; }

    /// <summary>The publication's JSON, the frame, or the control command.</summary>
    public required byte[] Data { get; init; }

    /// <summary>The stream offset (0: not stored).</summary>
    public ulong Offset { get; init; }

    /// <summary>The stream epoch (empty: not stored).</summary>
    public string Epoch { get; init; } = "";

    /// <summary>The id of the node that sent it.</summary>
    public string Origin { get; init; } = "";

    /// <summary>Identifies one publish across its targets, so a plain client targeted twice receives it once.</summary>
    public string PublishId { get; init; } = "";

    /// <summary>How many topics the publish went to (more than one: receivers de-duplicate plain clients by <see cref="PublishId"/>).</summary>
    public int Targets { get; init; } = 1;

    /// <summary>Whether <see cref="Data"/> is a JSON string (plain clients receive the string itself).</summary>
    public bool DataIsString { get; init; }

    /// <summary>The attribute filter as JSON, or null.</summary>
    public byte[]? Where { get; init; }

    /// <summary>
    /// A client id not to deliver to, or empty: the connection a presence push is about, or the connection a publication
    /// skips (<see cref="Routing.PublishRequest.ExceptConnection"/>, live delivery only: it is not stored).
    /// </summary>
    public string Exclude { get; init; } = "";

    /// <summary>The event name of a publication (<see cref="Routing.PublishRequest.Event"/>), or null: none.</summary>
    public string? Event { get; init; }

    /// <summary>
    /// The publication as the publishing node prepared it (frames encoded lazily once, the filter parsed, the plain
    /// clients already reached), attached only when the broker delivers in process (<see cref="IBroker.IsLocal"/>) and
    /// never sent anywhere: a receiving node of a cluster rebuilds it from the fields above.
    /// </summary>
    internal Routing.Publication? Local { get; init; }

    /// <summary>The same message as stored at <paramref name="position"/> (what a broker hands its nodes after an append).</summary>
    public BrokerMessage At(StreamPosition position) => new()
    {
        Kind = Kind,
        Data = Data,
        Offset = position.Offset,
        Epoch = position.Epoch,
        Origin = Origin,
        PublishId = PublishId,
        Targets = Targets,
        DataIsString = DataIsString,
        Where = Where,
        Exclude = Exclude,
        Event = Event,
        Local = Local,
    };
}
