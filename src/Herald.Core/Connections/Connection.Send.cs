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
    public bool TrySend(byte[] frame) => TrySend(frame, null);

    /// <summary>
    /// As <see cref="TrySend(byte[])"/>; when the frame starts a flush and <paramref name="batch"/> is given, the
    /// flush is left to the batch (a fan-out on a thread that should not write, <see cref="FlushBatch"/>).
    /// </summary>
    internal bool TrySend(byte[] frame, FlushBatch? batch)
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
                BeginCloseLocked(DisconnectCodes.SlowConsumer, "slow consumer: send queue overflowed", push: null, out start);
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
            if (batch is not null)
            {
                batch.Add(this);
            }
            else
            {
                StartFlush();
            }
        }
        return accepted;
    }

    /// <summary>
    /// Closes the connection with <paramref name="code"/>: the client first gets its protocol's disconnect frame (if any), then the close
    /// handshake follows everything already queued. Does nothing when the connection is already closing.
    /// </summary>
    public void Disconnect(int code, string reason) => DisconnectWithCloseCode(Protocol.CloseCode(code), reason);

    /// <summary>
    /// Closes with <paramref name="code"/> as the client's protocol words it (no mapping of Herald's codes): for an
    /// adapter closing with a code of its own protocol.
    /// </summary>
    internal void DisconnectWithCloseCode(int code, string reason)
    {
        bool start;
        lock (_sync)
        {
            if (_state >= ConnectionState.Closing)
            {
                return;
            }
            BeginCloseLocked(code, reason, push: Protocol.DisconnectFrame(code, reason), out start);
        }
        if (start)
        {
            StartFlush();
        }
    }

    private void BeginCloseLocked(int code, string reason, byte[]? push, out bool start)
    {
        _state = ConnectionState.Closing;
        CloseDeadlineTicks = _node.NowTicks + _node.Options.CloseTimeout.Ticks;
        var pending = _pending ??= new Queue<Outbound>(2);
        if (push is not null)
        {
            pending.Enqueue(new Outbound(push, 0, null));
        }
        pending.Enqueue(new Outbound(null, code, reason));
        start = !_flushing;
        _flushing = true;
    }

    /// <summary>At most this many queued frames go to the transport in one write.</summary>
    internal const int MaxBatchFrames = 256;

    /// <summary>At most this many bytes of queued frames go to the transport in one write (one frame may exceed it).</summary>
    internal const int MaxBatchBytes = 64 * 1024;

    /// <summary>Starts sending the queue (the caller took <c>_flushing</c>), on this thread.</summary>
    private void StartFlush() => Flush();

    /// <summary>
    /// Sends the queue in order until it is empty. Frames that queued up while a send was in flight are handed to the
    /// transport together (<see cref="IConnectionTransport.SendManyAsync"/>), so a burst costs one write and one
    /// system call instead of one per frame; the close handshake always goes alone, after everything queued before it.
    /// Runs synchronously while the transport's sends complete at once (the usual case: the kernel takes the bytes);
    /// only a send that must wait continues asynchronously, so a delivery costs no task or state machine. The caller
    /// holds <c>_flushing</c>; only one flush runs per connection.
    /// </summary>
    internal void Flush()
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
                var closing = single is null && count == 0;
                var send = single is not null ? _transport.SendAsync(single)
                    : count > 0 ? _transport.SendManyAsync(batch.AsMemory(0, count))
                    : _transport.CloseAsync(close.CloseCode, close.CloseReason ?? "");
                if (!send.IsCompletedSuccessfully)
                {
                    var held = count > 0 ? batch : null; // in use until the send completes
                    if (held is not null)
                    {
                        batch = null;
                    }
                    _ = ContinueFlushAsync(send, held, closing);
                    return;
                }
                send.GetAwaiter().GetResult();
                if (closing)
                {
                    EndFlushAfterClose();
                    return;
                }
            }
        }
        catch (Exception ex)
        {
            OnFlushFailed(ex);
        }
        finally
        {
            if (batch is not null)
            {
                ArrayPool<byte[]>.Shared.Return(batch, clearArray: true); // hold on to no frame
            }
        }
    }

    /// <summary>A send had to wait: once it completes, the flush goes on.</summary>
    private async Task ContinueFlushAsync(ValueTask send, byte[][]? batch, bool closing)
    {
        try
        {
            await send.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            OnFlushFailed(ex);
            return;
        }
        finally
        {
            if (batch is not null)
            {
                ArrayPool<byte[]>.Shared.Return(batch, clearArray: true);
            }
        }
        if (closing)
        {
            EndFlushAfterClose();
            return;
        }
        Flush();
    }

    private void EndFlushAfterClose()
    {
        lock (_sync)
        {
            _pending?.Clear();
            _flushing = false;
        }
    }

    /// <summary>The wire is broken (peer gone, aborted): stop sending; the receive side sees the end and cleans up.</summary>
    private void OnFlushFailed(Exception ex)
    {
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
}
