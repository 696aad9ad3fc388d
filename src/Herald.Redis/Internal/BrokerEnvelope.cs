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
/// <para>
/// A publication's event name rides in the exclude field, after a space: <c>exclude event</c> (the exclude part may be
/// empty), with <c>%</c>, <c>|</c> and space written as <c>%25</c>, <c>%7C</c> and <c>%20</c>. That field is where a
/// node of the build before events reads past it: such a node uses the exclude field for join and leave frames only,
/// so it delivers the publication as before, without the event and without the exclusion. A message from such a node
/// has no space there and reads as a publication without an event.
/// </para>
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
            $"|{message.Origin}|{message.PublishId}|{message.Targets}|{(message.DataIsString ? 's' : '-')}|{ExcludeField(message)}|{where.Length}|");
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
        var (exclude, eventName) = ReadExcludeField(rest[fields[6]]);
        return new BrokerMessage
        {
            Kind = kind,
            Offset = offset,
            Epoch = Encoding.UTF8.GetString(rest[fields[1]]),
            Origin = Encoding.UTF8.GetString(rest[fields[2]]),
            PublishId = Encoding.UTF8.GetString(rest[fields[3]]),
            Targets = targets,
            DataIsString = rest[fields[5]].SequenceEqual("s"u8),
            Exclude = exclude,
            Event = eventName,
            Where = whereLength == 0 ? null : rest.Slice(start, whereLength).ToArray(),
            Data = rest[(start + whereLength)..].ToArray(),
        };
    }

    /// <summary>The exclude field: the client id, then the event name after a space when there is one.</summary>
    private static string ExcludeField(BrokerMessage message) =>
        message.Event is null ? Escape(message.Exclude) : Escape(message.Exclude) + " " + Escape(message.Event);

    private static (string Exclude, string? Event) ReadExcludeField(ReadOnlySpan<byte> field)
    {
        var space = field.IndexOf((byte)' ');
        return space < 0
            ? (Unescape(Encoding.UTF8.GetString(field)), null)
            : (Unescape(Encoding.UTF8.GetString(field[..space])), Unescape(Encoding.UTF8.GetString(field[(space + 1)..])));
    }

    /// <summary>Writes the characters the envelope uses as separators as <c>%XX</c>; nearly every text has none.</summary>
    private static string Escape(string text) =>
        text.AsSpan().IndexOfAny('%', '|', ' ') < 0 ? text : text.Replace("%", "%25", StringComparison.Ordinal)
            .Replace("|", "%7C", StringComparison.Ordinal).Replace(" ", "%20", StringComparison.Ordinal);

    private static string Unescape(string text) =>
        !text.Contains('%', StringComparison.Ordinal) ? text : text.Replace("%20", " ", StringComparison.Ordinal)
            .Replace("%7C", "|", StringComparison.Ordinal).Replace("%25", "%", StringComparison.Ordinal);
}
