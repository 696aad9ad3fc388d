using System.Diagnostics;
using Herald.Server.Tests.Infrastructure;

namespace Herald.Server.Tests.Process;

/// <summary>
/// Stopping <c>herald serve</c> with a signal, as systemd, Docker or Ctrl+C do: clients are told to reconnect and the
/// process exits 0 on its own.
/// </summary>
public sealed class ShutdownSignalTests
{
    private static readonly TimeSpan ExitBound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Sigterm_tells_native_clients_to_reconnect_closes_everyone_with_4000_and_exits_0()
    {
        await using var herald = HeraldProcess.Start(["serve", "--host", "127.0.0.1", "--port", "0", "--udp-port", "0", "--set", "shutdown_timeout=10s"]);
        var listening = await herald.WaitForListeningAsync();
        var uri = new Uri($"ws://127.0.0.1:{listening.HttpPort}/");
        await using var native = await WsClient.ConnectAsync(uri, "herald.v1");
        var connected = await TestServer.CallAsync(native, 1, "connect");
        Assert.True(connected.TryGetProperty("result", out _), connected.ToString());
        await using var plain = await WsClient.ConnectAsync(uri);
        await TestServer.SetPlainAttributesAsync(plain, """{"school_id":"2"}""");

        var stopwatch = Stopwatch.StartNew();
        herald.Terminate();

        var push = await native.ReceiveJsonAsync();
        Assert.Equal("disconnect", push.GetProperty("push").GetString());
        Assert.Equal(4000, push.GetProperty("code").GetInt32());
        Assert.True(push.GetProperty("reconnect").GetBoolean(), push.ToString());
        Assert.Equal(4000, await native.WaitForCloseAsync());
        Assert.Equal(4000, await plain.WaitForCloseAsync());
        Assert.Equal(0, await herald.WaitForExitAsync(ExitBound));
        // Both clients closed promptly, so the shutdown must not have waited out shutdown_timeout (10s).
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"exit took {stopwatch.Elapsed}");
        Assert.Contains("Shutting down: telling 2 client(s) to reconnect", herald.Stdout);
        Assert.Contains("0 aborted", herald.Stdout);
        herald.AssertNoErrorsLogged();
    }

    [Theory]
    [InlineData("SIGTERM")]
    [InlineData("SIGINT")]
    public async Task An_idle_server_exits_0_on_a_stop_signal(string signal)
    {
        await using var herald = HeraldProcess.Start(["serve", "--host", "127.0.0.1", "--port", "0", "--udp-port", "0"]);
        await herald.WaitForListeningAsync();

        if (signal == "SIGTERM")
        {
            herald.Terminate();
        }
        else
        {
            herald.Interrupt();
        }

        Assert.Equal(0, await herald.WaitForExitAsync(ExitBound));
        Assert.Contains("Shutting down: telling 0 client(s) to reconnect", herald.Stdout);
        herald.AssertNoErrorsLogged();
    }
}
