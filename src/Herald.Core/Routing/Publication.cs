using System.Text;
using System.Text.Json;
using Herald.Core.Attributes;
using Herald.Core.Connections;
using Herald.Protocol;

namespace Herald.Core.Routing;

/// <summary>
/// One publish on its way to this node's connections: its data, its filter, and its frames, each encoded at most once
/// per wire format and shared by every recipient (the plain frame, the native frame without a channel, the native frame
/// of a channel at an offset). Thread-safe: the topics of one publish may be delivered on several threads at once.
/// </summary>
internal sealed class Publication
{
    private readonly bool _dataIsString;
    private byte[]? _plain;
    private byte[]? _nativeNoChannel;
    private NativeFrameCache? _native;
    private NativeFrameCache? _inbox;
    private NativeFrameCache? _pusher;
    private byte[]? _pusherNoChannel;
    private HashSet<Connection>? _plainReached;
    private int _delivered;

    /// <summary>Prepares the delivery of <paramref name="request"/>'s data.</summary>
    public Publication(PublishRequest request, FlushDispatch dispatch = FlushDispatch.Inline)
        : this(request.Data, request.DataIsString, request.Where, dispatch)
    {
        Event = request.Event;
        ExceptConnection = request.ExceptConnection;
    }

    /// <summary>Prepares the delivery of <paramref name="data"/> (raw JSON), narrowed by <paramref name="where"/> when given.</summary>
    public Publication(byte[] data, bool dataIsString, WhereFilter? where, FlushDispatch dispatch = FlushDispatch.Inline)
    {
        Data = data;
        _dataIsString = dataIsString;
        Where = where;
        Dispatch = dispatch;
    }

    /// <summary>The publication's data as raw JSON.</summary>
    public byte[] Data { get; }

    /// <summary>The event name it carries (null: none), in every frame that can tell it.</summary>
    public string? Event { get; init; }

    /// <summary>The id of a connection that does not receive it although targeted (the Pusher sender's socket), or null.</summary>
    public string? ExceptConnection { get; init; }

    /// <summary>The attribute filter recipients must match, or null.</summary>
    public WhereFilter? Where { get; }

    /// <summary>Where the sends of a fan-out run (chosen by whoever published: UDP ingress hands them to the thread pool).</summary>
    public FlushDispatch Dispatch { get; }

    /// <summary>Connections this node queued the publication for so far, over all its topics.</summary>
    public int Delivered => Volatile.Read(ref _delivered);

    /// <summary>
    /// Whether <paramref name="connection"/> is the one this publication skips (<see cref="ExceptConnection"/>): it is
    /// neither sent the publication nor counted as reached. The publication is stored all the same, so a skipped
    /// connection that follows offsets sees one missing live and would get it back from history on recovery.
    /// </summary>
    public bool Excludes(Connection connection) => ExceptConnection is { } except && string.Equals(connection.Id, except, StringComparison.Ordinal);

    /// <summary>What plain clients receive: the string itself when data is a JSON string, else the JSON text.</summary>
    public byte[] PlainFrame => _plain ??= _dataIsString ? Unquote(Data) : Data;

    /// <summary>The native publication push for <paramref name="channel"/> (null: attribute-targeted) at <paramref name="offset"/>.</summary>
    public byte[] NativeFrame(string? channel, ulong offset = 0)
    {
        if (channel is null)
        {
            return _nativeNoChannel ??= ServerFrames.Publication(null, Data, 0, Event);
        }
        // One immutable entry swapped as a whole: a thread never pairs one channel's name with another's frame.
        var cached = Volatile.Read(ref _native);
        if (cached is null || !ReferenceEquals(cached.Channel, channel) || cached.Offset != offset)
        {
            cached = new NativeFrameCache(channel, offset, ServerFrames.Publication(channel, Data, offset, Event));
            Volatile.Write(ref _native, cached);
        }
        return cached.Frame;
    }

    /// <summary>The native inbox entry push at inbox <paramref name="offset"/>.</summary>
    public byte[] InboxFrame(ulong offset)
    {
        var cached = Volatile.Read(ref _inbox);
        if (cached is null || cached.Offset != offset)
        {
            cached = new NativeFrameCache("", offset, ServerFrames.InboxEntry(offset, Data, Event));
            Volatile.Write(ref _inbox, cached);
        }
        return cached.Frame;
    }

    /// <summary>
    /// The Pusher protocol's event frame for the node's <paramref name="channel"/> (null: to a user or by attributes,
    /// sent without a channel), encoded once per channel by <paramref name="encode"/> and shared by every Pusher recipient.
    /// </summary>
    public byte[] PusherFrame(string? channel, Func<Publication, string?, byte[]> encode)
    {
        if (channel is null)
        {
            return _pusherNoChannel ??= encode(this, null);
        }
        var cached = Volatile.Read(ref _pusher);
        if (cached is null || !ReferenceEquals(cached.Channel, channel))
        {
            cached = new NativeFrameCache(channel, 0, encode(this, channel));
            Volatile.Write(ref _pusher, cached);
        }
        return cached.Frame;
    }

    /// <summary>Whether <see cref="Data"/> is a JSON string.</summary>
    public bool DataIsString => _dataIsString;

    /// <summary>
    /// For a publish to several channels or users: whether a plain connection is reached for the first time (a plain
    /// client cannot tell channels apart, so it gets one copy per publish).
    /// </summary>
    public bool FirstTimeForPlain(Connection connection)
    {
        var reached = Volatile.Read(ref _plainReached) ?? Interlocked.CompareExchange(ref _plainReached, [], null) ?? _plainReached!;
        lock (reached)
        {
            return reached.Add(connection);
        }
    }

    /// <summary>Counts deliveries made for this publication.</summary>
    public void AddDelivered(int count) => Interlocked.Add(ref _delivered, count);

    private static byte[] Unquote(byte[] jsonString)
    {
        var reader = new Utf8JsonReader(jsonString);
        reader.Read();
        if (!reader.ValueIsEscaped)
        {
            return reader.ValueSpan.ToArray();
        }
        return Encoding.UTF8.GetBytes(reader.GetString()!);
    }

    private sealed record NativeFrameCache(string Channel, ulong Offset, byte[] Frame);
}
