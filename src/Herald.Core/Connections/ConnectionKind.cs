namespace Herald.Core.Connections;

/// <summary>How a connection speaks to Herald.</summary>
public enum ConnectionKind
{
    /// <summary>No subprotocol: sends bare attribute objects, receives publication data as-is (the seed's clients).</summary>
    Plain,

    /// <summary>The <c>herald.v1</c> subprotocol: JSON commands with ids, replies and pushes.</summary>
    Native,

    /// <summary>The Pusher Channels protocol (version 7) of pusher-js and Laravel Echo, at <c>/app/{key}</c>.</summary>
    Pusher,
}
