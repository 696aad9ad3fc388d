using System.Net;
using System.Net.Sockets;

namespace Herald.Server.Ingress;

/// <summary>
/// Addresses and CIDR ranges (<c>127.0.0.0/8</c>, <c>::1</c>, <c>10.0.0.0/8</c>) checked against a datagram's source
/// straight from its socket address bytes, without allocating per datagram.
/// </summary>
internal sealed class IpAllowList
{
    private readonly List<(byte[] Network, int PrefixBits)> _v4 = [];
    private readonly List<(byte[] Network, int PrefixBits)> _v6 = [];

    /// <summary>Reads the entries of setting <paramref name="setting"/> (named in errors).</summary>
    public IpAllowList(IEnumerable<string> entries, string setting = "udp_allow")
    {
        foreach (var entry in entries)
        {
            var text = entry.Trim();
            var slash = text.IndexOf('/', StringComparison.Ordinal);
            var addressText = slash < 0 ? text : text[..slash];
            if (!IPAddress.TryParse(addressText, out var address))
            {
                throw new HeraldStartupException($"'{entry}' in {setting} is not an IP address or CIDR range (e.g. 127.0.0.0/8, ::1, 10.0.0.0/8).");
            }
            var bits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
            var prefix = bits;
            if (slash >= 0 && (!int.TryParse(text[(slash + 1)..], out prefix) || prefix < 0 || prefix > bits))
            {
                throw new HeraldStartupException($"'{entry}' in {setting} has a bad prefix length (0 to {bits}).");
            }
            (bits == 32 ? _v4 : _v6).Add((address.GetAddressBytes(), prefix));
        }
    }

    /// <summary>Whether <paramref name="address"/> is listed (allocates: for a new connection, not per datagram).</summary>
    public bool Contains(IPAddress address) => Contains(new IPEndPoint(address, 0).Serialize());

    /// <summary>Whether the source <paramref name="address"/> (as received) is allowed.</summary>
    public bool Contains(SocketAddress address)
    {
        var buffer = address.Buffer.Span;
        if (address.Family == AddressFamily.InterNetwork)
        {
            return Match(_v4, buffer.Slice(4, 4));
        }
        if (address.Family == AddressFamily.InterNetworkV6)
        {
            var bytes = buffer.Slice(8, 16);
            // ::ffff:a.b.c.d on a dual-mode socket is an IPv4 sender.
            if (bytes[..10].IndexOfAnyExcept((byte)0) < 0 && bytes[10] == 0xff && bytes[11] == 0xff)
            {
                return Match(_v4, bytes[12..]);
            }
            return Match(_v6, bytes);
        }
        return false;
    }

    private static bool Match(List<(byte[] Network, int PrefixBits)> ranges, ReadOnlySpan<byte> address)
    {
        foreach (var (network, prefix) in ranges)
        {
            var full = prefix / 8;
            if (!address[..full].SequenceEqual(network.AsSpan(0, full)))
            {
                continue;
            }
            var rest = prefix % 8;
            if (rest == 0)
            {
                return true;
            }
            var mask = (byte)(0xff << (8 - rest));
            if ((address[full] & mask) == (network[full] & mask))
            {
                return true;
            }
        }
        return false;
    }
}
