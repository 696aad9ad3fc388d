using System.Collections.Concurrent;
using System.Net;
using Herald.Server.Ingress;

namespace Herald.Server.Transports;

/// <summary>
/// Caps the WebSocket connections one IP address holds open at once (setting max_connections_per_ip), so one host
/// cannot take all of the server's memory and file descriptors; addresses in trusted_proxies are not counted. An
/// address's entry exists only while it has connections, so the table is bounded by the open connections.
/// </summary>
internal sealed class ConnectionsPerAddress(int limit, IReadOnlyList<string> trusted)
{
    private readonly ConcurrentDictionary<IPAddress, Counter> _open = new();
    private readonly IpAllowList _trusted = new(trusted, "trusted_proxies");

    /// <summary>The limit (0: none).</summary>
    public int Limit => limit;

    /// <summary>Addresses with connections counted now (for diagnostics and tests).</summary>
    public int AddressCount => _open.Count;

    /// <summary>
    /// Takes a place for a new connection from <paramref name="address"/>: false when it already has the most allowed.
    /// A true result must be matched by one <see cref="Release"/> when the connection ends, with the same address.
    /// </summary>
    public bool TryAcquire(IPAddress? address)
    {
        if (!Counts(address))
        {
            return true;
        }
        address = Normalize(address!);
        while (true)
        {
            var counter = _open.GetOrAdd(address, static _ => new Counter());
            lock (counter)
            {
                if (counter.Removed)
                {
                    continue; // dropped as it reached 0 meanwhile: take the new one
                }
                if (counter.Open >= limit)
                {
                    return false;
                }
                counter.Open++;
                return true;
            }
        }
    }

    /// <summary>Gives back the place a successful <see cref="TryAcquire"/> took.</summary>
    public void Release(IPAddress? address)
    {
        if (!Counts(address) || !_open.TryGetValue(address = Normalize(address!), out var counter))
        {
            return;
        }
        lock (counter)
        {
            if (--counter.Open <= 0)
            {
                counter.Removed = true;
                _open.TryRemove(new KeyValuePair<IPAddress, Counter>(address, counter));
            }
        }
    }

    private bool Counts(IPAddress? address) => limit > 0 && address is not null && !_trusted.Contains(address);

    /// <summary>An IPv4 client on a dual-mode socket is the same client as on an IPv4 one.</summary>
    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private sealed class Counter
    {
        public int Open;
        public bool Removed;
    }
}
