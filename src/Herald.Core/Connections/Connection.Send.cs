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

    private async Task FlushAsync()
    {
        try
        {
            while (true)
            {
                Outbound item;
                lock (_sync)
                {
                    if (_pending is null || !_pending.TryDequeue(out item))
                    {
                        _flushing = false;
                        return;
                    }
                    if (item.Frame is not null)
                    {
                        _pendingBytes -= item.Frame.Length;
                    }
                }
                if (item.Frame is not null)
                {
                    await _transport.SendAsync(item.Frame).ConfigureAwait(false);
                }
                else
                {
                    await _transport.CloseAsync(item.CloseCode, item.CloseReason ?? "").ConfigureAwait(false);
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
    }
}
