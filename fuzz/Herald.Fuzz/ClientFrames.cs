using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Unicode;
using Herald.Core.Connections;

namespace Herald.Fuzz;

/// <summary>
/// The wire of an in-process client: keeps what the node sends and checks each frame as a conforming client would
/// read it. Every text frame Herald sends must be valid UTF-8 (or the client drops the connection, 1007), and every
/// frame of the native protocol must be one JSON document (plain clients also get publication data as sent, and the
/// text "pong", so only UTF-8 is checked for them).
/// </summary>
internal sealed class ClientFrames(bool native) : IConnectionTransport
{
    private readonly ConcurrentQueue<byte[]> _frames = new();

    /// <summary>The close code the node sent, if it closed the connection.</summary>
    public int? CloseCode { get; private set; }

    public ValueTask SendAsync(ReadOnlyMemory<byte> utf8Text)
    {
        _frames.Enqueue(utf8Text.ToArray());
        return ValueTask.CompletedTask;
    }

    public ValueTask CloseAsync(int code, string reason)
    {
        CloseCode = code;
        return ValueTask.CompletedTask;
    }

    public void Abort()
    {
    }

    /// <summary>The frames received so far, in order, as text (after <see cref="CheckAndClear"/> accepted them).</summary>
    public List<string> Texts { get; } = [];

    /// <summary>Throws a <see cref="FuzzFinding"/> for the first frame a conforming client would reject; forgets checked frames.</summary>
    public void CheckAndClear(string who)
    {
        Texts.Clear();
        while (_frames.TryDequeue(out var frame))
        {
            if (!Utf8.IsValid(frame))
            {
                throw new FuzzFinding($"{who} received a text frame that is not valid UTF-8: {Convert.ToBase64String(frame)}");
            }
            if (native)
            {
                try
                {
                    using var _ = JsonDocument.Parse(frame);
                }
                catch (JsonException ex)
                {
                    throw new FuzzFinding($"{who} received a frame that is not JSON ({ex.Message}): {System.Text.Encoding.UTF8.GetString(frame)}");
                }
            }
            Texts.Add(System.Text.Encoding.UTF8.GetString(frame));
        }
    }
}
