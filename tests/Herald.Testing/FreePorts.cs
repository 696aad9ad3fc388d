using System.Net;
using System.Net.Sockets;

namespace Herald.Testing;

/// <summary>
/// Loopback ports that were free a moment ago (the OS picked them for a socket that is closed again), for tests that
/// must pass explicit ports to the executable. Tests that can pass port 0 should, and read the listening line.
/// </summary>
public static class FreePorts
{
    public static int Tcp()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    public static int Udp()
    {
        using var socket = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.Client.LocalEndPoint!).Port;
    }
}
