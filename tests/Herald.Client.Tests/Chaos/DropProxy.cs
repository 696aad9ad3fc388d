using System.Net;
using System.Net.Sockets;

namespace Herald.Client.Tests.Chaos;

/// <summary>
/// A TCP proxy on a loopback port for ONE client, so a test can break that client's connection the way a network does:
/// <see cref="Drop"/> resets both sides at once (no close frame, no FIN), and <see cref="Blackout"/> also refuses its
/// reconnects for a while. Each new connection goes to the upstream port the test names at that moment (a restarted
/// server, or another node of a cluster); when the upstream dies, the client's side is reset too.
/// </summary>
public sealed class DropProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<int?> _upstream;
    private readonly Lock _lock = new();
    private readonly List<Socket> _sockets = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private Func<bool> _blackoutOver = () => true;

    public DropProxy(Func<int?> upstream)
    {
        _upstream = upstream;
        _listener.Start();
        _accepting = Task.Run(AcceptLoopAsync);
    }

    public Uri Uri => new($"ws://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

    /// <summary>Connections this proxy reset (by <see cref="Drop"/> or because a side ended).</summary>
    public int Drops { get; private set; }

    /// <summary>Resets the client's connection now.</summary>
    public void Drop()
    {
        Socket[] sockets;
        lock (_lock)
        {
            sockets = [.. _sockets];
            _sockets.Clear();
        }
        foreach (var socket in sockets)
        {
            Reset(socket);
        }
        if (sockets.Length > 0)
        {
            Drops++;
        }
    }

    /// <summary>Resets the connection and refuses (resets) the client's reconnects until <paramref name="over"/> says so.</summary>
    public void Blackout(Func<bool> over)
    {
        Volatile.Write(ref _blackoutOver, over);
        Drop();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = Task.Run(() => LinkAsync(client));
        }
    }

    private async Task LinkAsync(Socket client)
    {
        if (!Volatile.Read(ref _blackoutOver)() || _upstream() is not { } port)
        {
            Reset(client);
            return;
        }
        var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await server.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            Reset(server);
            Reset(client);
            return;
        }
        client.NoDelay = true;
        lock (_lock)
        {
            _sockets.Add(client);
            _sockets.Add(server);
        }
        await Task.WhenAny(PumpAsync(client, server), PumpAsync(server, client)).ConfigureAwait(false);
        lock (_lock)
        {
            _sockets.Remove(client);
            _sockets.Remove(server);
        }
        Reset(client);
        Reset(server);
    }

    private static async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).ConfigureAwait(false);
                if (read == 0)
                {
                    return;
                }
                for (var sent = 0; sent < read;)
                {
                    sent += await to.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Closes with linger 0: the peer gets a reset, not an orderly end.</summary>
    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
        socket.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Drop();
        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }
}
