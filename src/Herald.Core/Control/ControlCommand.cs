using Herald.Core.Attributes;

namespace Herald.Core.Control;

/// <summary>
/// A command from the backend to connections (the HTTP API's disconnect, subscribe, unsubscribe and attributes). Each
/// node applies it to its own connections of the <see cref="Target"/>; <see cref="Node.ControlAsync"/> applies it here
/// and has the other nodes of a cluster apply it too. <see cref="ControlCommandJson"/> is its form between nodes.
/// </summary>
public abstract record ControlCommand(ControlTarget Target);

/// <summary>Closes the target's connections with <paramref name="Code"/> (4000-4499: the client reconnects; 4500-4999: it does not).</summary>
public sealed record DisconnectCommand(ControlTarget Target, int Code, string Reason) : ControlCommand(Target);

/// <summary>Subscribes the target's live connections to <paramref name="Channel"/>; native ones get a subscribe push.</summary>
public sealed record SubscribeCommand(ControlTarget Target, string Channel) : ControlCommand(Target);

/// <summary>Unsubscribes the target's connections from <paramref name="Channel"/>; native ones get an unsubscribe push.</summary>
public sealed record UnsubscribeCommand(ControlTarget Target, string Channel) : ControlCommand(Target);

/// <summary>Replaces the target's attributes (trusted: over what the client and its token said).</summary>
public sealed record SetAttributesCommand(ControlTarget Target, AttributeSet Attributes) : ControlCommand(Target);
