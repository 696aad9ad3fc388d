using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Herald.Server.Ingress;

/// <summary>
/// Receives up to <see cref="BatchSize"/> datagrams with one system call (Linux <c>recvmmsg</c>), into buffers pinned
/// once: at high rates the per-datagram system call is a large part of ingress. It waits for the first datagram only
/// (<c>MSG_WAITFORONE</c>) and then takes whatever else is already queued, so a lone datagram is not delayed. Used
/// on 64-bit Linux only; elsewhere ingress receives one datagram per call (<see cref="SingleDatagramReceiver"/>).
/// </summary>
internal sealed class DatagramBatchReceiver : IDatagramReceiver
{
    /// <summary>Datagrams taken per system call at most.</summary>
    public const int BatchSize = 32;

    private const int NameBytes = 128; // sizeof(struct sockaddr_storage)
    private const int MsgWaitForOne = 0x10000;
    private const int MsgTrunc = 0x20;
    private const int EAgain = 11;
    private const int EIntr = 4;

    private readonly Socket _socket;
    private readonly int _slotBytes;
    private readonly byte[] _data;
    private readonly byte[] _names;
    private readonly IoVec[] _iov;
    private readonly MMsgHdr[] _messages;
    private readonly IntPtr _messagesAddress;

    /// <summary>Prepares the buffers: <see cref="BatchSize"/> slots of <paramref name="slotBytes"/> each.</summary>
    public DatagramBatchReceiver(Socket socket, int slotBytes)
    {
        _socket = socket;
        _slotBytes = slotBytes;
        _data = GC.AllocateUninitializedArray<byte>(BatchSize * slotBytes, pinned: true);
        _names = GC.AllocateArray<byte>(BatchSize * NameBytes, pinned: true);
        _iov = GC.AllocateArray<IoVec>(BatchSize, pinned: true);
        _messages = GC.AllocateArray<MMsgHdr>(BatchSize, pinned: true);
        _messagesAddress = Marshal.UnsafeAddrOfPinnedArrayElement(_messages, 0);
        for (var i = 0; i < BatchSize; i++)
        {
            _iov[i] = new IoVec(Marshal.UnsafeAddrOfPinnedArrayElement(_data, i * slotBytes), slotBytes);
            _messages[i].Header.Name = Marshal.UnsafeAddrOfPinnedArrayElement(_names, i * NameBytes);
            _messages[i].Header.Iov = Marshal.UnsafeAddrOfPinnedArrayElement(_iov, i);
            _messages[i].Header.IovLength = 1;
        }
    }

    /// <summary>Whether this platform has <c>recvmmsg</c> with the structure layout used here.</summary>
    public static bool IsSupported =>
        OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    /// <inheritdoc />
    public int Receive()
    {
        for (var i = 0; i < BatchSize; i++)
        {
            _messages[i].Header.NameLength = NameBytes;
            _messages[i].Header.Flags = 0;
            _messages[i].Length = 0;
        }
        var handle = _socket.SafeHandle;
        var added = false;
        int received;
        int error;
        try
        {
            handle.DangerousAddRef(ref added); // the descriptor stays valid during the call
            received = RecvMmsg(handle.DangerousGetHandle(), _messagesAddress, BatchSize, MsgWaitForOne, IntPtr.Zero);
            error = received < 0 ? Marshal.GetLastPInvokeError() : 0;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
        if (received >= 0)
        {
            return received;
        }
        if (error is EAgain or EIntr)
        {
            return 0;
        }
        throw new SocketException(error);
    }

    /// <inheritdoc />
    public ReadOnlySpan<byte> Datagram(int index, out bool truncated)
    {
        truncated = (_messages[index].Header.Flags & MsgTrunc) != 0;
        return _data.AsSpan(index * _slotBytes, (int)Math.Min(_messages[index].Length, (uint)_slotBytes));
    }

    /// <inheritdoc />
    public void CopySource(int index, SocketAddress address)
    {
        var length = (int)Math.Min(_messages[index].Header.NameLength, (uint)Math.Min(NameBytes, address.Buffer.Length));
        _names.AsSpan(index * NameBytes, length).CopyTo(address.Buffer.Span);
        address.Size = length;
    }

    [DllImport("libc", EntryPoint = "recvmmsg", SetLastError = true)]
    private static extern int RecvMmsg(IntPtr socket, IntPtr messages, uint length, int flags, IntPtr timeout);

    /// <summary><c>struct iovec</c> (LP64).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly struct IoVec(IntPtr start, nint length)
    {
        public readonly IntPtr Start = start;
        public readonly nint Length = length;
    }

    /// <summary><c>struct msghdr</c> (LP64).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
    {
        public IntPtr Name;
        public uint NameLength;
        public IntPtr Iov;
        public nint IovLength;
        public IntPtr Control;
        public nint ControlLength;
        public int Flags;
    }

    /// <summary><c>struct mmsghdr</c>: a message header and the length received into it.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MMsgHdr
    {
        public MsgHdr Header;
        public uint Length;
    }
}
