using System.Collections.Concurrent;
using System.Text;
using Herald.Core.Connections;

namespace Herald.Core.Tests;

/// <summary>
/// An in-memory wire for core tests: records what the node sends; can be "stalled" so that sends never complete,
/// like a client that stopped reading.
/// </summary>
internal sealed class RecordingTransport : IConnectionTransport
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ConcurrentQueue<string> Sent { get; } = new();

    public bool Stalled { get; init; }

    public int? CloseCode { get; private set; }

    public bool Aborted { get; private set; }

    public List<string> Texts => [.. Sent];

    public async ValueTask SendAsync(ReadOnlyMemory<byte> utf8Text)
    {
        Sent.Enqueue(Encoding.UTF8.GetString(utf8Text.Span));
        if (Stalled)
        {
            await _release.Task;
        }
    }

    public ValueTask CloseAsync(int code, string reason)
    {
        CloseCode = code;
        return ValueTask.CompletedTask;
    }

    public void Abort()
    {
        Aborted = true;
        _release.TrySetException(new IOException("aborted"));
    }
}
