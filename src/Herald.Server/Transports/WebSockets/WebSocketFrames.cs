using System.Buffers.Binary;
using System.Text;

namespace Herald.Server.Transports.WebSockets;

/// <summary>RFC 6455 framing as the server writes it: opcodes, frame headers, unmasking, close codes and reasons.</summary>
internal static class WebSocketFrames
{
    public const byte OpContinuation = 0x0, OpText = 0x1, OpBinary = 0x2, OpClose = 0x8, OpPing = 0x9, OpPong = 0xA;

    /// <summary>Server frames: 2 bytes, plus 2 or 8 of extended length, never masked.</summary>
    public const int MaxHeaderBytes = 10;

    /// <summary>RFC 6455 5.5: control frames carry at most this many payload bytes.</summary>
    public const int MaxControlPayload = 125;

    private const int MaxCloseReasonBytes = MaxControlPayload - 2;

    /// <summary>RFC 6455 5.2: FIN + opcode, then the payload length in 7, 7+16 or 7+64 bits, then the payload.</summary>
    public static int WriteFrame(byte opcode, ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        destination[0] = (byte)(0x80 | opcode);
        int header;
        if (payload.Length <= 125)
        {
            destination[1] = (byte)payload.Length;
            header = 2;
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            destination[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)payload.Length);
            header = 4;
        }
        else
        {
            destination[1] = 127;
            BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)payload.Length);
            header = 10;
        }
        payload.CopyTo(destination[header..]);
        return header + payload.Length;
    }

    /// <summary>RFC 6455 5.3: each payload byte XOR the mask byte at its position modulo 4.</summary>
    public static void Unmask(Span<byte> payload, ReadOnlySpan<byte> mask)
    {
        var key = BinaryPrimitives.ReadUInt32LittleEndian(mask);
        var wide = ((ulong)key << 32) | key;
        var i = 0;
        for (; i + 8 <= payload.Length; i += 8)
        {
            var chunk = BinaryPrimitives.ReadUInt64LittleEndian(payload[i..]);
            BinaryPrimitives.WriteUInt64LittleEndian(payload[i..], chunk ^ wide);
        }
        for (; i < payload.Length; i++)
        {
            payload[i] ^= mask[i & 3];
        }
    }

    /// <summary>RFC 6455 7.4: codes a peer may send in a close frame.</summary>
    public static bool IsValidCloseCode(int code) =>
        code is >= 1000 and <= 1003 or >= 1007 and <= 1014 or >= 3000 and <= 4999;

    /// <summary>A close reason cut to the 123 bytes a close frame has room for, on a character boundary.</summary>
    public static string Truncate(string reason)
    {
        if (Encoding.UTF8.GetByteCount(reason) <= MaxCloseReasonBytes)
        {
            return reason;
        }
        var length = Math.Min(reason.Length, MaxCloseReasonBytes);
        while (Encoding.UTF8.GetByteCount(reason.AsSpan(0, length)) > MaxCloseReasonBytes)
        {
            length--;
        }
        return reason[..length];
    }
}
