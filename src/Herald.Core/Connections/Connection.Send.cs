using System.Buffers;
using Herald.Protocol;

namespace Herald.Core.Connections;

public sealed partial class Connection
{
    private Queue<Outbound>? _pending;
    private int _pendingBytes;
    private bool _flushing;

    /// <summary>A queued item: a frame to send, or (Frame null) the close handshake.</summary>
    private readonly record struct Outbound(byte[]? Frame, int CloseCode, string? CloseReason);

    /// <summary>
    /// Queues <paramref name="frame"/> for sending. Returns false when the connection is closing or its queue is full;
    /// a full queue disconnects the connection as a slow consumer (code <see cref="DisconnectCodes.SlowConsumer"/>).
    /// </summary>
    public bool TrySend(byte[] frame)
    {
        bool start, accepted, overflowed = false;
        lock (_sync)
        {
            if (_state >= ConnectionState.Closing)
            {
                return false;
            }
            var pending = _pending ??= new Queue<Outbound>(4);
            var options = _node.Options;
            // The limits guard a backlog: one frame, however large (a recovery reply), always fits an empty queue.
            if (pending.Count > 0 && (pending.Count >= options.SendQueueLimit || _pendingBytes + frame.Length > options.SendQueueMaxBytes))
            {
                // Whatever is queued will not be read in time: drop it and close so others are not held up.
                pending.Clear();
                _pendingBytes = 0;
                BeginCloseLocked(DisconnectCodes.SlowConsumer, "slow consumer: send queue overflowed", push: false, out start);
                accepted = false;
                overflowed = true;
            }
            else
            {
                pending.Enqueue(new Outbound(frame, 0, null));
                _pendingBytes += frame.Length;
                start = !_flushing;
                _flushing = true;
                accepted = true;
            }
        }
        if (overflowed)
        {
            _node.OnSlowConsumer(this);
        }
        if (start)
        {
            _ = FlushAsync();
        }
        return accepted;
    }

    /// <summary>
    /// Closes the connection with <paramref name="code"/>: native clients first get a disconnect push, then the close
    /// handshake follows everything already queued. Does nothing when the connection is already closing.
    /// </summary>
    public void Disconnect(int code, string reason)
    {
        bool start;
        lock (_sync)
        {
            if (_state >= ConnectionState.Closing)
            {
                return;
            }
            BeginCloseLocked(code, reason, push: Kind == ConnectionKind.Native, out start);
        }
        if (start)
        {
            _ = FlushAsync();
        }
    }

    private void BeginCloseLocked(int code, string reason, bool push, out bool start)
    {
        _state = ConnectionState.Closing;
        CloseDeadlineTicks = _node.NowTicks + (long)(_node.Options.CloseTimeout.TotalSeconds * TimeSpan.TicksPerSecond);
        var pending = _pending ??= new Queue<Outbound>(2);
        if (push)
        {
            pending.Enqueue(new Outbound(ServerFrames.Disconnect(code, reason), 0, null));
        }
        pending.Enqueue(new Outbound(null, code, reason));
        start = !_flushing;
        _flushing = true;
    }

    /// <summary>At most this many queued frames go to the transport in one write.</summary>
    internal const int MaxBatchFrames = 256;

    /// <summary>At most this many bytes of queued frames go to the transport in one write (one frame may exceed it).</summary>
    internal const int MaxBatchBytes = 64 * 1024;

    /// <summary>
    /// Sends the queue in order until it is empty. Frames that queued up while a send was in flight are handed to the
    /// transport together (<see cref="IConnectionTransport.SendManyAsync"/>), so a burst costs one write and one
    /// system call instead of one per frame; the close handshake always goes alone, after everything queued before it.
    /// </summary>
    private async Task FlushAsync()
    {
        byte[][]? batch = null;
        try
        {
            while (true)
            {
                byte[]? single = null;
                var count = 0;
                Outbound close = default;
                lock (_sync)
                {
                    if (_pending is null || !_pending.TryPeek(out var head))
                    {
                        _flushing = false;
                        return;
                    }
                    if (head.Frame is null)
                    {
                        close = _pending.Dequeue();
                    }
                    else if (_pending.Count == 1)
                    {
                        single = _pending.Dequeue().Frame!;
                        _pendingBytes -= single.Length;
                    }
                    else
                    {
                        batch ??= ArrayPool<byte[]>.Shared.Rent(MaxBatchFrames);
                        var bytes = 0;
                        while (count < MaxBatchFrames && _pending.TryPeek(out var next) && next.Frame is { } frame
                            && (count == 0 || bytes + frame.Length <= MaxBatchBytes))
                        {
                            _pending.Dequeue();
                            batch[count++] = frame;
                            bytes += frame.Length;
                        }
                        _pendingBytes -= bytes;
                        if (count == 1)
                        {
                            single = batch[0]; // the next item is the close handshake
                            count = 0;
                        }
                    }
                }
                if (single is not null)
                {
                    await _transport.SendAsync(single).ConfigureAwait(false);
                }
                else if (count > 0)
                {
                    await _transport.SendManyAsync(batch.AsMemory(0, count)).ConfigureAwait(false);
                }
                else
                {
                    await _transport.CloseAsync(close.CloseCode, close.CloseReason ?? "").ConfigureAwait(false);
                    lock (_sync)
                    {
                        _pending?.Clear();
                        _flushing = false;
                    }
                    return;
                }
            }
        }
        catch (Exception ex)
        {
            // The wire is broken (peer gone, aborted): stop sending; the receive side sees the end and cleans up.
            lock (_sync)
            {
                if (_state < ConnectionState.Closing)
                {
                    _state = ConnectionState.Closing;
                    CloseDeadlineTicks = _node.NowTicks;
                }
                _pending?.Clear();
                _pendingBytes = 0;
                _flushing = false;
            }
            _node.OnSendFailed(this, ex);
            _transport.Abort();
        }
        finally
        {
            if (batch is not null)
            {
                ArrayPool<byte[]>.Shared.Return(batch, clearArray: true); // hold on to no frame
            }
        }
    }
}
