using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Herald.Server.Tests.Process;

/// <summary><c>herald serve</c> cannot start: it exits 1 at once, saying what is wrong and which setting or flag to change.</summary>
public sealed class StartupFailureTests
{
    [Fact]
    public async Task A_websocket_port_in_use_exits_1_naming_the_port_and_the_flag()
    {
        var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        try
        {
            var port = ((IPEndPoint)holder.LocalEndpoint).Port;

            var result = await HeraldProcess.RunAsync(["serve", "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--udp-port", "0"]);

            Assert.True(result.ExitCode == 1, $"expected exit 1, got: {result}");
            Assert.Contains($"Port {port} on 127.0.0.1 is already in use", result.Stderr, StringComparison.Ordinal);
            Assert.Contains("setting port", result.Stderr, StringComparison.Ordinal);
            Assert.Contains("--port", result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("listening", result.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            holder.Stop();
        }
    }

    [Fact]
    public async Task A_udp_port_in_use_exits_1_naming_the_port_and_the_flag()
    {
        using var holder = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)holder.Client.LocalEndPoint!).Port;

        var result = await HeraldProcess.RunAsync(["serve", "--host", "127.0.0.1", "--port", "0", "--udp-port", port.ToString(CultureInfo.InvariantCulture)]);

        Assert.True(result.ExitCode == 1, $"expected exit 1, got: {result}");
        Assert.Contains($"UDP port {port} on 127.0.0.1 is already in use", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("setting udp_port", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("--udp-port", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_log_file_that_cannot_be_opened_exits_1_naming_the_setting_without_a_stack_trace()
    {
        using var directory = new TempDirectory();
        var notAFolder = directory.Write("not-a-folder", "a file, so no log file can be created under it");

        var result = await HeraldProcess.RunAsync(["serve", "--host", "127.0.0.1", "--port", "0", "--udp-port", "0", "--log-file", Path.Combine(notAFolder, "herald.log")]);

        Assert.True(result.ExitCode == 1, $"expected exit 1, got: {result}");
        Assert.Contains("setting log_file", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("--log-file", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", result.Stdout, StringComparison.Ordinal);
    }
}
