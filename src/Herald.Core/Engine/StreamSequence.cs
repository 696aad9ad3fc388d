namespace Herald.Core.Engine;

/// <summary>
/// The last stream offset one subscription of a broker received, to notice a gap: brokers keep one per subscription
/// (never per topic, since a message left over from an earlier subscription of the same topic is no gap). Not
/// thread-safe: a subscription's messages are handled one at a time.
/// </summary>
public sealed class StreamSequence
{
    private string _epoch = "";
    private ulong _offset;

    /// <summary>Records <paramref name="message"/>; returns a description of the gap before it, or null when there is none.</summary>
    public string? Next(BrokerMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Offset == 0)
        {
            return null;
        }
        string? gap = null;
        if (_offset != 0 && string.Equals(_epoch, message.Epoch, StringComparison.Ordinal) && message.Offset > _offset + 1)
        {
            gap = $"offset {message.Offset} arrived after {_offset}";
        }
        if (!string.Equals(_epoch, message.Epoch, StringComparison.Ordinal) || message.Offset > _offset)
        {
            (_epoch, _offset) = (message.Epoch, message.Offset);
        }
        return gap;
    }
}
