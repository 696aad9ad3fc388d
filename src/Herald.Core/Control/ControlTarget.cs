namespace Herald.Core.Control;

/// <summary>Whom a control command is for: every connection of a user, or one connection by its id.</summary>
public enum ControlTargetKind
{
    /// <summary>Every connection of the user, on whichever node it is.</summary>
    User,

    /// <summary>The one connection with this id (the id's prefix names the node that holds it).</summary>
    Client,
}

/// <summary>
/// The connections a control command applies to: a user id or a client (connection) id, never both, never empty.
/// </summary>
public sealed record ControlTarget
{
    private ControlTarget(ControlTargetKind kind, string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        Kind = kind;
        Id = id;
    }

    /// <summary>Whether <see cref="Id"/> is a user id or a client id.</summary>
    public ControlTargetKind Kind { get; }

    /// <summary>The user id or client id.</summary>
    public string Id { get; }

    /// <summary>Every connection of <paramref name="userId"/>.</summary>
    public static ControlTarget User(string userId) => new(ControlTargetKind.User, userId);

    /// <summary>The connection with id <paramref name="clientId"/>.</summary>
    public static ControlTarget Client(string clientId) => new(ControlTargetKind.Client, clientId);

    /// <inheritdoc/>
    public override string ToString() => (Kind == ControlTargetKind.User ? "user " : "client ") + Id;
}
