namespace Herald.Protocol;

/// <summary>Names fixed by the native protocol: the subprotocol and the method and push names.</summary>
public static class ProtocolNames
{
    /// <summary>The WebSocket subprotocol a native client asks for. Without it a connection is a plain client.</summary>
    public const string SubprotocolV1 = "herald.v1";

    /// <summary>Method names a native client may call.</summary>
    public static class Methods
    {
        /// <summary>First command of every native connection: announces attributes (and, later, a token).</summary>
        public const string Connect = "connect";
        /// <summary>Subscribes the connection to a channel.</summary>
        public const string Subscribe = "subscribe";
        /// <summary>Unsubscribes the connection from a channel.</summary>
        public const string Unsubscribe = "unsubscribe";
        /// <summary>Publishes to a channel from the client, when the server allows it.</summary>
        public const string Publish = "publish";
        /// <summary>Replaces the connection's attributes.</summary>
        public const string Attrs = "attrs";
        /// <summary>Replaces the connection's token before it expires.</summary>
        public const string Refresh = "refresh";
        /// <summary>Acknowledges the user's inbox up to an offset.</summary>
        public const string InboxAck = "inbox_ack";
        /// <summary>Who is in a channel the connection is subscribed to.</summary>
        public const string Presence = "presence";
        /// <summary>How many connections and users are in a channel the connection is subscribed to.</summary>
        public const string PresenceStats = "presence_stats";
        /// <summary>Round trip check; the reply is an empty result.</summary>
        public const string Ping = "ping";
        /// <summary>Answer to the server's ping push; sent without an id.</summary>
        public const string Pong = "pong";
    }

    /// <summary>Kinds of push the server sends without an id.</summary>
    public static class Pushes
    {
        /// <summary>A publication: <c>{"push":"pub","channel":"...","data":...}</c>.</summary>
        public const string Publication = "pub";
        /// <summary>An entry of the user's durable inbox: <c>{"push":"inbox","offset":N,"data":...}</c>.</summary>
        public const string Inbox = "inbox";
        /// <summary>Someone joined a channel: <c>{"push":"join","channel":"c","client":"id","user":"42","info":...}</c>.</summary>
        public const string Join = "join";
        /// <summary>Someone left a channel (same fields as join).</summary>
        public const string Leave = "leave";
        /// <summary>The server subscribed this connection to a channel: <c>{"push":"subscribe","channel":"c"}</c>.</summary>
        public const string Subscribe = "subscribe";
        /// <summary>The server unsubscribed this connection from a channel.</summary>
        public const string Unsubscribe = "unsubscribe";
        /// <summary>Keep-alive: the client answers with the <c>pong</c> method.</summary>
        public const string Ping = "ping";
        /// <summary>The server is about to close the connection: code, reason, reconnect.</summary>
        public const string Disconnect = "disconnect";
    }
}
