namespace Herald.Core.Connections;

/// <summary>
/// The wire under one connection (a WebSocket today). Herald guarantees it never calls <see cref="SendAsync"/>,
/// <see cref="SendManyAsync"/> or <see cref="CloseAsync"/> concurrently for one connection: the connection's send
/// queue calls them one at a time, in order. <see cref="Abort"/> may be called at any time from any thread.
/// </summary>
public interface IConnectionTransport
{
    /// <summary>Sends one text message. The bytes are shared with other recipients and must not be changed.</summary>
    ValueTask SendAsync(ReadOnlyMemory<byte> utf8Text);

    /// <summary>
    /// Sends several text messages, in order, as <see cref="SendAsync"/> would one after the other. The connection
    /// calls this when frames queued up while an earlier send was in flight, so a transport can write them together
    /// (one write and one system call instead of one each); this default sends them one at a time.
    /// </summary>
    async ValueTask SendManyAsync(ReadOnlyMemory<byte[]> utf8Texts)
    {
        for (var i = 0; i < utf8Texts.Length; i++)
        {
            await SendAsync(utf8Texts.Span[i]).ConfigureAwait(false);
        }
    }

    /// <summary>Starts the close handshake with <paramref name="code"/>; the receive side ends when the peer answers.</summary>
    ValueTask CloseAsync(int code, string reason);

    /// <summary>Drops the connection at once, without a close handshake.</summary>
    void Abort();
}
