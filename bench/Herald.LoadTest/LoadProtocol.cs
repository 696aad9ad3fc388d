namespace Herald.LoadTest;

/// <summary>
/// How the load tool's clients speak to Herald (<c>fanout --protocol</c>). Plain clients announce a group attribute and
/// are reached by <c>where</c>; native (<c>herald.v1</c>) and Pusher clients subscribe channels and are reached by
/// channel, so the same broadcast and targeted loads compare the protocols' costs per delivery.
/// </summary>
internal enum LoadProtocol
{
    /// <summary>A bare JSON attribute object, <c>{"g":"3"}</c>; publishes address <c>where</c>.</summary>
    Plain,

    /// <summary>The <c>herald.v1</c> subprotocol: <c>connect</c>, then <c>subscribe</c>; publishes address channels.</summary>
    Native,

    /// <summary>The Pusher protocol at <c>/app/{key}</c>: <c>pusher:subscribe</c>; publishes address channels.</summary>
    Pusher,
}
