using System.Net;
using System.Net.Sockets;
using Herald.Core;
using Herald.Core.Routing;
using Herald.Protocol;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Ingress;

/// <summary>
/// Receives publish datagrams (the same JSON as <c>POST /api/publish</c>) and routes them. A dedicated thread runs one
/// blocking receive loop on buffers pinned once, with a large kernel receive buffer to absorb bursts: no task or
/// allocation per datagram beyond the publication itself. How datagrams come off the socket is an
/// <see cref="IDatagramReceiver"/>: up to 32 queued datagrams per system call on Linux, one per call elsewhere. Bad
/// datagrams are dropped and counted, with a rate-limited warning.
/// </summary>
public sealed class UdpIngress : IHostedService, IDisposable
{
    private static readonly TimeSpan WarningInterval = TimeSpan.FromSeconds(10);
    private const string SourceNotAllowed = "source address not allowed (setting udp_allow)";

    private readonly Node _node;
    private readonly HeraldServerOptions _options;
    private readonly ILogger<UdpIngress> _logger;
    private readonly Lock _dropLock = new();
    private readonly IpAllowList _allow;
    private readonly DatagramSignature? _signature;
    private readonly TimeProvider _time;
    private readonly LogThrottle _faultLog;
    private readonly string _tooLarge;
    private Socket? _socket;
    private Timer? _dropReporter;
    private Thread? _thread;
    private volatile bool _stopping;
    private long _received;
    private long _dropped;
    private long _droppedSinceWarning;
    /// <summary>When the last drop warning was logged (a <see cref="TimeProvider"/> timestamp); null before the first.</summary>
    private long? _lastWarning;
    private string _lastDropReason = "";

    /// <summary>Creates the ingress; it binds in <see cref="StartAsync"/>. Warning intervals are measured with <paramref name="time"/> (default: the system's).</summary>
    public UdpIngress(Node node, HeraldServerOptions options, ILogger<UdpIngress> logger, TimeProvider? time = null)
    {
        _node = node;
        _options = options;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _faultLog = LogThrottle.Default(_time);
        _allow = new IpAllowList(options.UdpAllow);
        _signature = string.IsNullOrEmpty(options.UdpSecret) ? null : new DatagramSignature(options.UdpSecret);
        _tooLarge = $"datagram larger than {node.Options.MaxMessageSize} bytes (setting max_message_size)";
    }

    /// <summary>The bound endpoint, once started.</summary>
    public IPEndPoint? LocalEndPoint => _socket?.LocalEndPoint as IPEndPoint;

    /// <summary>Datagrams received and handled (routed or dropped).</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Datagrams dropped (too large, invalid, no target, source not allowed, unsigned or badly signed).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.UdpEnabled)
        {
            return Task.CompletedTask;
        }
        var address = HostAddress.Parse(_options.UdpHost, "udp_host");
        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }
            socket.ReceiveBufferSize = _options.UdpReceiveBufferBytes;
            socket.Bind(new IPEndPoint(address, _options.UdpPort));
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            socket.Dispose();
            throw new HeraldStartupException(
                $"UDP port {_options.UdpPort} on {_options.UdpHost} is already in use: stop the other process or choose another port (setting udp_port, flag --udp-port).", ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var granted = GrantedReceiveBuffer(socket);
        if (granted < _options.UdpReceiveBufferBytes && OperatingSystem.IsLinux())
        {
            // net.core.rmem_max capped it. SO_RCVBUFFORCE passes the cap when the process may (CAP_NET_ADMIN, e.g.
            // given to the service); otherwise it fails and the warning below says what to raise.
            try
            {
                socket.SetRawSocketOption(SolSocket, SoRcvBufForce, BitConverter.GetBytes(_options.UdpReceiveBufferBytes));
                granted = GrantedReceiveBuffer(socket);
            }
            catch (SocketException)
            {
            }
        }
        if (granted < _options.UdpReceiveBufferBytes)
        {
            ServerLog.UdpBufferSmall(_logger, granted, _options.UdpReceiveBufferBytes);
        }
        _socket = socket;
        _dropReporter = new Timer(static s => ((UdpIngress)s!).ReportPendingDrops(), this, WarningInterval, WarningInterval);
        _thread = new Thread(ReceiveLoop) { IsBackground = true, Name = "herald-udp" };
        _thread.Start();
        return Task.CompletedTask;
    }

    private const int SolSocket = 1; // Linux SOL_SOCKET
    private const int SoRcvBufForce = 33; // Linux SO_RCVBUFFORCE

    /// <summary>The receive buffer the kernel granted, in the units it was asked in (Linux reports twice that, for its bookkeeping).</summary>
    private static int GrantedReceiveBuffer(Socket socket) =>
        OperatingSystem.IsLinux() ? socket.ReceiveBufferSize / 2 : socket.ReceiveBufferSize;

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _stopping = true;
        _dropReporter?.Dispose();
        _socket?.Dispose();
        if (_thread is not null && _thread != Thread.CurrentThread)
        {
            _thread.Join(TimeSpan.FromSeconds(2));
        }
    }

    private void ReceiveLoop()
    {
        var socket = _socket!;
        // The blocking receive wakes up now and then to notice a stop (closing the socket does not interrupt recvmmsg).
        socket.ReceiveTimeout = 250;
        // One byte more than the limit: a datagram that fills its slot is too large.
        var slotBytes = Math.Min(_node.Options.MaxMessageSize, 65_507) + 1;
        IDatagramReceiver receiver = DatagramBatchReceiver.IsSupported
            ? new DatagramBatchReceiver(socket, slotBytes)
            : new SingleDatagramReceiver(socket, slotBytes);
        var from = new SocketAddress(socket.AddressFamily);
        while (!_stopping)
        {
            int count;
            try
            {
                count = receiver.Receive();
            }
            catch (Exception) when (_stopping)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex)
            {
                ServerLog.UdpLoopFailed(_logger, ex);
                Thread.Sleep(10); // not a tight loop of errors
                continue;
            }
            for (var i = 0; i < count; i++)
            {
                try
                {
                    var datagram = receiver.Datagram(i, out var truncated);
                    receiver.CopySource(i, from);
                    if (!_allow.Contains(from))
                    {
                        Drop(SourceNotAllowed);
                    }
                    else if (truncated)
                    {
                        Drop(_tooLarge);
                    }
                    else
                    {
                        Handle(datagram);
                    }
                }
                catch (Exception ex)
                {
                    // Never let one datagram stop ingress for everybody.
                    DatagramFailed(ex);
                }
                finally
                {
                    // Counted once handled, so "received" means routed or dropped by now.
                    Interlocked.Increment(ref _received);
                }
            }
        }
    }

    /// <summary>Routes or drops one datagram (internal: the fuzz harness feeds datagrams here without a socket).</summary>
    internal void Handle(ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length > _node.Options.MaxMessageSize)
        {
            Drop(_tooLarge);
            return;
        }
        if (_signature is not null && !_signature.TryVerify(datagram, out datagram, out var signatureError))
        {
            Drop(signatureError);
            return;
        }
        // The one check of the datagram's text: what passes is valid UTF-8 without lone surrogate escapes.
        if (!JsonText.TryValidate(datagram, out var textError))
        {
            Drop(textError);
            return;
        }
        if (!PublishRequestParser.TryParse(datagram, out var request, out _, out var error))
        {
            Drop(error);
            return;
        }
        // Per channel the node stores and delivers in arrival order; the loop goes on to the next datagram at once.
        // The fan-out leaves its sends to the thread pool, in slices: this thread goes back to reading.
        var publish = _node.PublishAsync(request, Herald.Core.Connections.FlushDispatch.ThreadPool);
        if (publish.IsCompletedSuccessfully)
        {
            if (!publish.Result.Succeeded)
            {
                Drop(publish.Result.Error);
            }
        }
        else
        {
            _ = ObserveAsync(publish);
        }
    }

    private async Task ObserveAsync(ValueTask<PublishResult> publish)
    {
        try
        {
            var result = await publish.ConfigureAwait(false);
            if (!result.Succeeded)
            {
                Drop(result.Error);
            }
        }
        catch (Exception ex)
        {
            DatagramFailed(ex);
        }
    }

    /// <summary>
    /// A server fault while handling one datagram: it is dropped and counted like a bad one, the loop goes on, and the
    /// stack trace is logged once per cause and interval.
    /// </summary>
    private void DatagramFailed(Exception ex)
    {
        Drop("server error: " + ex.GetType().Name);
        if (_faultLog.ShouldLog(LogThrottle.FaultCause(ex), out var suppressed))
        {
            ServerLog.UdpDatagramFailed(_logger, LogThrottle.Note(suppressed), ex);
        }
    }

    private void Drop(string reason)
    {
        Interlocked.Increment(ref _dropped);
        lock (_dropLock)
        {
            _droppedSinceWarning++;
            _lastDropReason = reason;
            if (_lastWarning is not { } last || _time.GetElapsedTime(last) >= WarningInterval)
            {
                WarnLocked();
            }
        }
    }

    /// <summary>At most one warning per interval: the first drop at once, later ones summed up by the timer.</summary>
    private void ReportPendingDrops()
    {
        lock (_dropLock)
        {
            if (_droppedSinceWarning > 0 && _lastWarning is { } last && _time.GetElapsedTime(last) >= WarningInterval)
            {
                WarnLocked();
            }
        }
    }

    private void WarnLocked()
    {
        var now = _time.GetTimestamp();
        var seconds = _lastWarning is { } last ? Math.Round(_time.GetElapsedTime(last, now).TotalSeconds, 1) : 0;
        ServerLog.UdpDropped(_logger, _droppedSinceWarning, seconds, Dropped, _lastDropReason);
        _droppedSinceWarning = 0;
        _lastWarning = now;
    }
}
