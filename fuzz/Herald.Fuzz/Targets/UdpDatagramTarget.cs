using System.Text;
using Herald.Server;
using Herald.Server.Ingress;

namespace Herald.Fuzz.Targets;

/// <summary>
/// One datagram on the UDP ingress (<see cref="UdpIngress"/>, without its socket), unsigned or with <c>udp_secret</c>
/// set. For the signed ingress the harness signs the input (so the body is fuzzed past the check) unless the input
/// already starts with <c>sha256=</c> (so the signature line itself is fuzzed). A datagram is routed or dropped;
/// it never throws out of the ingress or logs an error, and subscribers receive only what a conforming client accepts.
/// </summary>
internal sealed class UdpDatagramTarget : FuzzTarget
{
    /// <summary>The <c>udp_secret</c> of the signed ingress.</summary>
    public const string UdpSecret = "herald-fuzz-udp-secret";

    private readonly FaultLog _log = new();
    private readonly FuzzNode _node;
    private readonly Subscribers _subscribers;
    private readonly UdpIngress _ingress;
    private readonly bool _signed;
    private readonly DatagramSignature _signature = new(UdpSecret);

    public UdpDatagramTarget(bool signed)
    {
        _signed = signed;
        _node = new FuzzNode(_log);
        _subscribers = new Subscribers(_node);
        _ingress = new UdpIngress(_node.Node, new HeraldServerOptions { UdpSecret = signed ? UdpSecret : null }, _log.For<UdpIngress>());
    }


    public override void Run(byte[] input)
    {
        _log.Clear();
        var datagram = input;
        if (_signed && !input.AsSpan().StartsWith("sha256="u8))
        {
            datagram = Signed(input);
            if (!_signature.TryVerify(datagram, out var body, out var error) || !body.SequenceEqual(input))
            {
                throw new FuzzFinding("a datagram signed with udp_secret does not verify: " + error);
            }
        }
        _ingress.Handle(datagram);
        _log.ThrowIfAny();
        _subscribers.CheckAndClear();
    }

    /// <summary>sha256=&lt;hex HMAC&gt;\n + body, as senders sign.</summary>
    private static byte[] Signed(byte[] body)
    {
        var mac = System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(UdpSecret), body);
        return [.. "sha256="u8, .. Encoding.ASCII.GetBytes(Convert.ToHexStringLower(mac)), (byte)'\n', .. body];
    }

    public override void Dispose()
    {
        _ingress.Dispose();
        _node.Dispose();
    }
}
