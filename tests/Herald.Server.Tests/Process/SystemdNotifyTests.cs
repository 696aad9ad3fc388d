using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Herald.Server.Tests.Process;

/// <summary>
/// <c>herald serve</c> under a <c>Type=notify</c> systemd unit (deploy/herald.service): it tells the socket named by
/// <c>NOTIFY_SOCKET</c> READY=1 once it accepts connections, and STOPPING=1 when SIGTERM arrives. The test plays
/// systemd's part with a Unix datagram socket of its own.
/// </summary>
public sealed class SystemdNotifyTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Serve_notifies_ready_once_it_answers_and_stopping_on_SIGTERM(bool abstractSocket)
    {
        using var directory = new TempDirectory();
        // systemd names a socket in the abstract namespace with a leading "@".
        var name = abstractSocket ? "@herald-test-" + Guid.NewGuid().ToString("N") : Path.Combine(directory.Path, "notify.sock");
        using var systemd = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        systemd.Bind(new UnixDomainSocketEndPoint(abstractSocket ? "\0" + name[1..] : name));

        await using var herald = HeraldProcess.Start(["serve", "--host", "127.0.0.1", "--port", "0", "--udp-port", "0", "--memory"],
            environment: new Dictionary<string, string> { ["NOTIFY_SOCKET"] = name });

        var ready = await ReceiveAsync(systemd, herald);
        Assert.Contains("READY=1", ready, StringComparison.Ordinal);
        Assert.Contains($"MAINPID={herald.Id}", ready, StringComparison.Ordinal);
        // Ready means serving: the listening line is out and /health answers without waiting.
        var listening = await herald.WaitForListeningAsync(TimeSpan.FromSeconds(1));
        using var http = new HttpClient { Timeout = Timeouts.Default };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{listening.HttpPort}/health").DefaultTimeout()).StatusCode);
        Assert.Contains($"STATUS=Listening on 127.0.0.1:{listening.HttpPort}", ready, StringComparison.Ordinal);

        herald.Terminate();
        Assert.Contains("STOPPING=1", await ReceiveAsync(systemd, herald), StringComparison.Ordinal);
        Assert.Equal(0, await herald.WaitForExitAsync());
        herald.AssertNoErrorsLogged();
    }

    [Fact]
    public async Task Serve_without_NOTIFY_SOCKET_sends_nothing_and_runs_as_before()
    {
        await using var herald = HeraldProcess.Start(["serve", "--host", "127.0.0.1", "--port", "0", "--udp-port", "0", "--memory"]);
        await herald.WaitForListeningAsync();
        herald.Terminate();
        Assert.Equal(0, await herald.WaitForExitAsync());
        herald.AssertNoErrorsLogged();
    }

    private static async Task<string> ReceiveAsync(Socket socket, HeraldProcess herald)
    {
        var buffer = new byte[4096];
        try
        {
            var length = await socket.ReceiveAsync(buffer, SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(30));
            return Encoding.UTF8.GetString(buffer, 0, length);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException("no notification from herald within 30 s\n" + herald.Describe(), ex);
        }
    }
}
