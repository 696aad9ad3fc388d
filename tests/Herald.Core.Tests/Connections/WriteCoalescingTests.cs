using System.Text;
using Herald.Core.Connections;
using Herald.Protocol;

namespace Herald.Core.Tests.Connections;

public sealed class WriteCoalescingTests
{
    [Fact]
    public async Task Frames_queued_while_a_send_is_in_flight_go_to_the_transport_together_in_order()
    {
        using var node = NodeFixture.Create();
        var transport = new GatedTransport();
        var connection = node.Open(transport, ConnectionKind.Plain, "127.0.0.1:1");

        connection.TrySend(Text("0")); // starts a send that waits on the gate
        for (var i = 1; i <= 5; i++)
        {
            connection.TrySend(Text(i.ToString()));
        }
        transport.Open();
        await transport.Sent(6).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(["send 0", "many 1,2,3,4,5"], transport.Calls);
    }

    [Fact]
    public async Task A_burst_is_split_at_the_batch_frame_limit_and_nothing_is_lost()
    {
        using var node = NodeFixture.Create(new NodeOptions { SendQueueLimit = 10_000 });
        var transport = new GatedTransport();
        var connection = node.Open(transport, ConnectionKind.Plain, "127.0.0.1:1");
        var total = 1 + Connection.MaxBatchFrames + 10;

        for (var i = 0; i < total; i++)
        {
            connection.TrySend(Text(i.ToString()));
        }
        transport.Open();
        await transport.Sent(total).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(3, transport.Calls.Count);
        Assert.Equal(Connection.MaxBatchFrames, transport.Calls[1].Split(',').Length);
        Assert.Equal(Enumerable.Range(0, total).Select(i => i.ToString()), transport.Frames);
    }

    [Fact]
    public async Task The_close_handshake_follows_the_batched_frames_and_is_never_part_of_a_batch()
    {
        using var node = NodeFixture.Create();
        var transport = new GatedTransport();
        var connection = node.Open(transport, ConnectionKind.Native, "127.0.0.1:1");

        connection.TrySend(Text("0"));
        connection.TrySend(Text("1"));
        connection.TrySend(Text("2"));
        connection.Disconnect(DisconnectCodes.Shutdown, "bye");
        transport.Open();
        await transport.Closed.WaitAsync(TimeSpan.FromSeconds(10));

        var calls = transport.Calls;
        Assert.Equal(3, calls.Count);
        Assert.Equal("send 0", calls[0]);
        Assert.StartsWith("many 1,2,{\"push\":\"disconnect\"", calls[1]);
        Assert.Equal($"close {DisconnectCodes.Shutdown}", calls[2]);
    }

    [Fact]
    public async Task A_batch_that_fails_stops_sending_and_aborts_the_wire()
    {
        using var node = NodeFixture.Create();
        var transport = new GatedTransport { FailBatches = true };
        var connection = node.Open(transport, ConnectionKind.Plain, "127.0.0.1:1");

        connection.TrySend(Text("0"));
        connection.TrySend(Text("1"));
        connection.TrySend(Text("2"));
        transport.Open();
        await transport.Aborted.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(ConnectionState.Closing, connection.State);
        Assert.False(connection.TrySend(Text("3")));
    }

    private static byte[] Text(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>A wire whose first send waits until <see cref="Open"/>; records each call (single or batch) in order.</summary>
    private sealed class GatedTransport : IConnectionTransport
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _aborted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Lock _sync = new();
        private readonly List<string> _calls = [];
        private readonly List<string> _frames = [];
        private TaskCompletionSource? _sent;
        private int _sentTarget;

        public bool FailBatches { get; init; }

        public List<string> Calls
        {
            get
            {
                lock (_sync)
                {
                    return [.. _calls];
                }
            }
        }

        public List<string> Frames
        {
            get
            {
                lock (_sync)
                {
                    return [.. _frames];
                }
            }
        }

        public Task Closed => _closed.Task;

        public Task Aborted => _aborted.Task;

        public void Open() => _gate.TrySetResult();

        /// <summary>Completes once <paramref name="count"/> frames were sent in all.</summary>
        public Task Sent(int count)
        {
            lock (_sync)
            {
                _sentTarget = count;
                _sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                CheckSentLocked();
                return _sent.Task;
            }
        }

        public async ValueTask SendAsync(ReadOnlyMemory<byte> utf8Text)
        {
            await _gate.Task;
            var text = Encoding.UTF8.GetString(utf8Text.Span);
            Record("send " + text, [text]);
        }

        public async ValueTask SendManyAsync(ReadOnlyMemory<byte[]> utf8Texts)
        {
            await _gate.Task;
            if (FailBatches)
            {
                throw new IOException("broken pipe");
            }
            var texts = utf8Texts.ToArray().Select(t => Encoding.UTF8.GetString(t)).ToArray();
            Record("many " + string.Join(",", texts), texts);
        }

        public ValueTask CloseAsync(int code, string reason)
        {
            lock (_sync)
            {
                _calls.Add($"close {code}");
            }
            _closed.TrySetResult();
            return ValueTask.CompletedTask;
        }

        public void Abort() => _aborted.TrySetResult();

        private void Record(string call, string[] frames)
        {
            lock (_sync)
            {
                _calls.Add(call);
                _frames.AddRange(frames);
                CheckSentLocked();
            }
        }

        private void CheckSentLocked()
        {
            if (_sent is not null && _frames.Count >= _sentTarget)
            {
                _sent.TrySetResult();
            }
        }
    }
}
