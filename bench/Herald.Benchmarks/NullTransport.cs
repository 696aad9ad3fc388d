using Herald.Core.Connections;

namespace Herald.Benchmarks;

/// <summary>A wire that accepts every frame at once: measures Herald's own cost, not the kernel's.</summary>
internal sealed class NullTransport : IConnectionTransport
{
    public ValueTask SendAsync(ReadOnlyMemory<byte> utf8Text) => ValueTask.CompletedTask;

    public ValueTask CloseAsync(int code, string reason) => ValueTask.CompletedTask;

    public void Abort()
    {
    }
}
