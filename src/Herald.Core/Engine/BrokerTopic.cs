namespace Herald.Core.Engine;

/// <summary>What a broker topic carries.</summary>
public enum BrokerTopicKind : byte
{
    /// <summary>One channel's publications and presence pushes, in offset order.</summary>
    Channel,

    /// <summary>One user's publications (inbox entries), in offset order.</summary>
    User,

    /// <summary>What every node needs: attribute-targeted publishes and control commands.</summary>
    Broadcast,
}

/// <summary>A topic of the broker: a channel, a user, or the broadcast topic every node listens to.</summary>
/// <param name="Kind">What the topic carries.</param>
/// <param name="Name">The channel or user; empty for <see cref="BrokerTopicKind.Broadcast"/>.</param>
public readonly record struct BrokerTopic(BrokerTopicKind Kind, string Name)
{
    /// <summary>The topic every node subscribes to for its whole life.</summary>
    public static BrokerTopic Broadcast { get; } = new(BrokerTopicKind.Broadcast, "");

    /// <summary>The topic of <paramref name="channel"/>.</summary>
    public static BrokerTopic Channel(string channel) => new(BrokerTopicKind.Channel, channel);

    /// <summary>The topic of <paramref name="user"/>.</summary>
    public static BrokerTopic User(string user) => new(BrokerTopicKind.User, user);

    /// <inheritdoc />
    public override string ToString() => Kind == BrokerTopicKind.Broadcast ? "broadcast" : $"{Kind.ToString().ToLowerInvariant()} \"{Name}\"";
}
