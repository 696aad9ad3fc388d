using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Herald;

/// <summary>
/// Tells systemd (a <c>Type=notify</c> unit, deploy/herald.service) when the server is ready and when it begins to
/// stop: one datagram to the socket systemd names in <c>NOTIFY_SOCKET</c> (sd_notify's protocol). Without that
/// variable it does nothing. Written here rather than taken from Microsoft.Extensions.Hosting.Systemd because that
/// package also switches the console log format under systemd, and readiness is known only once
/// <c>HeraldServer.StartAsync</c> has bound every listener, which is where <c>herald serve</c> calls
/// <see cref="Ready"/>.
/// </summary>
internal sealed class SystemdNotify : IDisposable
{
    private readonly UnixDomainSocketEndPoint? _endPoint;
    private readonly List<PosixSignalRegistration> _signals = [];

    private SystemdNotify(UnixDomainSocketEndPoint? endPoint)
    {
        _endPoint = endPoint;
    }

    /// <summary>The notifier of this process: active when <c>NOTIFY_SOCKET</c> names a socket.</summary>
    public static SystemdNotify FromEnvironment()
    {
        var socket = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(socket) || !OperatingSystem.IsLinux() || (socket[0] != '/' && socket[0] != '@'))
        {
            return new SystemdNotify(null);
        }
        // "@name" is a socket in Linux's abstract namespace, which the endpoint spells with a leading NUL.
        return new SystemdNotify(new UnixDomainSocketEndPoint(socket[0] == '@' ? "\0" + socket[1..] : socket));
    }

    /// <summary>Sends <c>READY=1</c> with a status line, and <c>STOPPING=1</c> as soon as a SIGTERM or SIGINT arrives.</summary>
    public void Ready(string status)
    {
        if (_endPoint is null)
        {
            return;
        }
        Send($"READY=1\nSTATUS={status}\nMAINPID={Environment.ProcessId}");
        foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT })
        {
            // Not cancelled: the host's own handler still runs the graceful shutdown.
            _signals.Add(PosixSignalRegistration.Create(signal, _ => Send("STOPPING=1\nSTATUS=Shutting down")));
        }
    }

    private void Send(string message)
    {
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.SendTo(Encoding.UTF8.GetBytes(message), _endPoint!);
        }
        catch (SocketException)
        {
            // systemd went away or the socket is not ours to write: the server runs on regardless.
        }
    }

    public void Dispose()
    {
        foreach (var signal in _signals)
        {
            signal.Dispose();
        }
    }
}
