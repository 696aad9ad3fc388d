namespace Herald.Core.Protocols;

/// <summary>
/// The frames of one <see cref="ClientEvent"/>, encoded on first use once per protocol (<see cref="IClientProtocol.EventFrame"/>)
/// and shared by every recipient of that protocol.
/// </summary>
internal sealed class EventFrames(ClientEvent clientEvent)
{
    // Two or three protocols at most: a short list beats a dictionary.
    private readonly List<(IClientProtocol Protocol, byte[]? Frame)> _frames = new(2);

    /// <summary>The event as <paramref name="protocol"/>'s clients get it; null when they are not told.</summary>
    public byte[]? For(IClientProtocol protocol)
    {
        foreach (var (known, frame) in _frames)
        {
            if (ReferenceEquals(known, protocol))
            {
                return frame;
            }
        }
        var encoded = protocol.EventFrame(clientEvent);
        _frames.Add((protocol, encoded));
        return encoded;
    }
}
