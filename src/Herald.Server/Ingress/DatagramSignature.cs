using System.Security.Cryptography;
using System.Text;

namespace Herald.Server.Ingress;

/// <summary>
/// Signed datagrams (setting <c>udp_secret</c>): the first line is <c>sha256=</c> and the lowercase or uppercase hex
/// HMAC-SHA256 of the rest of the datagram (the JSON body) keyed with the secret, then a newline, then the body.
/// </summary>
internal sealed class DatagramSignature(string secret)
{
    private static readonly byte[] Prefix = "sha256="u8.ToArray();
    private const int HexLength = 64;
    private readonly byte[] _key = Encoding.UTF8.GetBytes(secret);

    /// <summary>Checks the signature and returns the body; false with a reason when unsigned or wrongly signed.</summary>
    public bool TryVerify(ReadOnlySpan<byte> datagram, out ReadOnlySpan<byte> body, out string error)
    {
        body = default;
        var headerLength = Prefix.Length + HexLength;
        if (datagram.Length < headerLength + 1 || !datagram.StartsWith(Prefix) || datagram[headerLength] != (byte)'\n')
        {
            error = "unsigned datagram: udp_secret is set, so the first line must be sha256=<hex HMAC-SHA256 of the body>";
            return false;
        }
        Span<byte> presented = stackalloc byte[32];
        if (Convert.FromHexString(datagram.Slice(Prefix.Length, HexLength), presented, out _, out var written) != System.Buffers.OperationStatus.Done || written != 32)
        {
            error = "bad signature: the sha256= line must hold 64 hex digits";
            return false;
        }
        body = datagram[(headerLength + 1)..];
        Span<byte> expected = stackalloc byte[32];
        HMACSHA256.HashData(_key, body, expected);
        if (!CryptographicOperations.FixedTimeEquals(presented, expected))
        {
            error = "bad signature: the HMAC does not match the body and udp_secret";
            body = default;
            return false;
        }
        error = "";
        return true;
    }

    /// <summary>Signs <paramref name="body"/> the way senders must (used by tests and docs examples).</summary>
    public static string Sign(string secret, string body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body))) + "\n" + body;
}
