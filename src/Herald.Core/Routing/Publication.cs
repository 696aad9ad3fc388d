using System.Text;
using System.Text.Json;
using Herald.Protocol;

namespace Herald.Core.Routing;

/// <summary>
/// The encoded frames of one publish, made at most once each and shared by every recipient: the plain frame (data
/// as-is) and one native frame per channel.
/// </summary>
internal sealed class Publication(PublishRequest request)
{
    private byte[]? _plain;
    private byte[]? _nativeNoChannel;
    private string? _lastChannel;
    private ulong _lastOffset;
    private byte[]? _lastNative;

    /// <summary>The publication's data as raw JSON.</summary>
    public byte[] Data => request.Data;

    /// <summary>What plain clients receive: the string itself when data is a JSON string, else the JSON text.</summary>
    public byte[] PlainFrame => _plain ??= request.DataIsString ? Unquote(request.Data) : request.Data;

    /// <summary>The native publication push for <paramref name="channel"/> (null: attribute-targeted) at <paramref name="offset"/>.</summary>
    public byte[] NativeFrame(string? channel, ulong offset = 0)
    {
        if (channel is null)
        {
            return _nativeNoChannel ??= ServerFrames.Publication(null, request.Data);
        }
        if (!ReferenceEquals(channel, _lastChannel) || offset != _lastOffset)
        {
            _lastNative = ServerFrames.Publication(channel, request.Data, offset);
            _lastChannel = channel;
            _lastOffset = offset;
        }
        return _lastNative!;
    }

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
}
