namespace Herald.Core.Connections;

/// <summary>
/// A transport that leaves the keep-alive of plain clients to the node: the node's single keep-alive timer calls
/// <see cref="SendPing"/> for each plain connection once per ping interval (spread over the interval, so pongs do not
/// all arrive at once) and disconnects a connection from which nothing, not even a pong, arrived within ping interval
/// plus pong timeout. The transport reports what it receives, pongs included, with <see cref="Node.OnActivity"/>.
/// Native connections are kept alive by the protocol's own ping push whatever their transport.
/// </summary>
public interface IKeepAliveTransport
{
    /// <summary>Sends a WebSocket ping frame, without waiting; may be called from any thread, beside any send.</summary>
    void SendPing();
}
