using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Herald.Core.Engine;

namespace Herald.Redis.Internal;

/// <summary>
/// How a <see cref="BrokerMessage"/> travels through Redis pub/sub, as bytes:
/// <c>K offset | epoch | origin | publish id | targets | flags | exclude | where length | where data</c> (no spaces; K is
/// the kind's letter, flags <c>s</c> when the data is a JSON string else <c>-</c>). The history and inbox scripts write
/// the head (kind, offset, epoch) themselves, since Redis assigns the offset; <see cref="Rest"/> is what follows it.
/// None of the text fields can hold <c>|</c> (node ids, publish ids, epochs and client ids are made by Herald).
/// </summary>
internal static class BrokerEnvelope
{
    /// <summary>The kind's letter, the start of the message.</summary>
    public static byte[] Kind(BrokerMessage message) => [(byte)message.Kind];

    /// <summary>Everything after the epoch: <c>|origin|publish id|targets|flags|exclude|where length|where data</c>.</summary>
    public static byte[] Rest(BrokerMessage message)
    {
        var where = message.Where ?? [];
        var head = string.Create(CultureInfo.InvariantCulture,
            $"|{message.Origin}|{message.PublishId}|{message.Targets}|{(message.DataIsString ? 's' : '-')}|{message.Exclude}|{where.Length}|");
        var headBytes = Encoding.UTF8.GetBytes(head);
        var rest = new byte[headBytes.Length + where.Length + message.Data.Length];
        headBytes.CopyTo(rest, 0);
        where.CopyTo(rest, headBytes.Length);
        message.Data.CopyTo(rest, headBytes.Length + where.Length);
        return rest;
    }

    /// <summary>The whole message for a plain PUBLISH (offset 0, no epoch).</summary>
    public static byte[] Encode(BrokerMessage message)
    {
        var rest = Rest(message);
        var whole = new byte[3 + rest.Length];
        whole[0] = (byte)message.Kind;
        whole[1] = (byte)'0';
        whole[2] = (byte)'|';
        rest.CopyTo(whole, 3);
        return whole;
    }

    /// <summary>Reads a message; null when the bytes are not one (another program publishing on Herald's topics).</summary>
    public static BrokerMessage? Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 2 || !Enum.IsDefined((BrokerMessageKind)bytes[0]))
        {
            return null;
        }
        var kind = (BrokerMessageKind)bytes[0];
        var rest = bytes[1..];
        Span<Range> fields = stackalloc Range[8];
        var start = 0;
        for (var i = 0; i < fields.Length; i++)
        {
            var bar = rest[start..].IndexOf((byte)'|');
            if (bar < 0)
            {
                return null;
            }
            fields[i] = new Range(start, start + bar);
            start += bar + 1;
        }
        if (!Utf8Parser.TryParse(rest[fields[0]], out ulong offset, out var used) || used != rest[fields[0]].Length
            || !Utf8Parser.TryParse(rest[fields[4]], out int targets, out used) || used != rest[fields[4]].Length
            || !Utf8Parser.TryParse(rest[fields[7]], out int whereLength, out used) || used != rest[fields[7]].Length
            || whereLength < 0 || whereLength > rest.Length - start)
        {
            return null;
        }
        return new BrokerMessage
        {
            Kind = kind,
            Offset = offset,
            Epoch = Encoding.UTF8.GetString(rest[fields[1]]),
            Origin = Encoding.UTF8.GetString(rest[fields[2]]),
            PublishId = Encoding.UTF8.GetString(rest[fields[3]]),
            Targets = targets,
            DataIsString = rest[fields[5]].SequenceEqual("s"u8),
            Exclude = Encoding.UTF8.GetString(rest[fields[6]]),
            Where = whereLength == 0 ? null : rest.Slice(start, whereLength).ToArray(),
            Data = rest[(start + whereLength)..].ToArray(),
        };
    }
}
