using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Herald.Core.Auth;

/// <summary>Builds the HMAC key for a shared secret.</summary>
public static class HmacKey
{
    /// <summary>
    /// The key for <paramref name="secret"/>. HMAC pads keys shorter than the hash's block size with zero bytes
    /// (RFC 2104), so padding a short secret to 64 bytes gives the same signatures every other JWT library makes with
    /// the raw secret, while satisfying IdentityModel's minimum key size.
    /// </summary>
    public static SymmetricSecurityKey For(string secret)
    {
        var bytes = Encoding.UTF8.GetBytes(secret);
        if (bytes.Length < 64)
        {
            Array.Resize(ref bytes, 64);
        }
        return new SymmetricSecurityKey(bytes);
    }
}
