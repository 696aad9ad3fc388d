using System.Net;

namespace Herald.Server;

/// <summary>Turns a configured host (<c>0.0.0.0</c>, <c>::</c>, <c>localhost</c>, an IP) into an address to bind.</summary>
internal static class HostAddress
{
    public static IPAddress Parse(string host, string settingName)
    {
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }
        if (host is "*" or "+")
        {
            return IPAddress.Any;
        }
        if (IPAddress.TryParse(host.Trim('[', ']'), out var address))
        {
            return address;
        }
        throw new HeraldStartupException($"'{host}' is not an IP address (setting {settingName}); use e.g. 0.0.0.0, 127.0.0.1, :: or localhost.");
    }
}
