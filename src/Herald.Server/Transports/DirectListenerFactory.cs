using System.Net;
using System.Net.Sockets;
using Herald.Core;
using Herald.Server.Transports.WebSockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Transports;

/// <summary>
/// Kestrel's transport for Herald's port: binds the listen socket and serves it with a <see cref="DirectConnectionListener"/>,
/// which keeps WebSockets for itself and hands everything else to Kestrel. Registered after Kestrel's socket transport,
/// so Kestrel binds with this one. The admission and the node are resolved at bind time, not when Kestrel is
/// made: ASP.NET Core makes the server while the application is built, before Herald has opened its engine.
/// </summary>
internal sealed class DirectListenerFactory(IServiceProvider services, ILoggerFactory loggers) : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    /// <summary>
    /// Connections the kernel queues before they are accepted. A wave of reconnects (every client of a restarted node)
    /// arrives faster than one accept loop takes it; Kestrel's 512 refuses (or drops SYNs of) the rest. The kernel caps
    /// it at <c>net.core.somaxconn</c>.
    /// </summary>
    internal const int Backlog = 4096;

    /// <inheritdoc />
    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint;

    /// <inheritdoc />
    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var ip = (IPEndPoint)endpoint;
        var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (ip.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }
            socket.Bind(ip);
            socket.Listen(Backlog);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            socket.Dispose();
            throw new AddressInUseException(ex.Message, ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var logger = loggers.CreateLogger<DirectConnectionListener>();
        var contexts = new SocketConnectionContextFactory(new SocketConnectionFactoryOptions(), loggers.CreateLogger("Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets"));
        return new ValueTask<IConnectionListener>(new DirectConnectionListener(socket, services.GetRequiredService<WebSocketAdmission>(), services.GetRequiredService<Node>(), contexts, logger));
    }
}
