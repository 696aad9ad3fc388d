using System.Security.Cryptography;
using System.Text;
using Herald.Core.Apps;

namespace Herald.Core.Protocols.Pusher;

/// <summary>
/// The signatures of Pusher's channel authorisation and user sign-in: <c>{key}:{hex HMAC-SHA256(secret, text)}</c>
/// over <c>{socket_id}:{channel}</c> (private), <c>{socket_id}:{channel}:{channel_data}</c> (presence) and
/// <c>{socket_id}::user::{user_data}</c> (sign-in). Compared in constant time; the secret never leaves this class.
/// </summary>
internal static class PusherSignature
{
    /// <summary>The text a private channel's signature covers.</summary>
    public static string PrivateText(string socketId, string channel) => socketId + ":" + channel;

    /// <summary>The text a presence channel's signature covers.</summary>
    public static string PresenceText(string socketId, string channel, string channelData) => socketId + ":" + channel + ":" + channelData;

    /// <summary>The text a sign-in's signature covers.</summary>
    public static string SigninText(string socketId, string userData) => socketId + "::user::" + userData;

    /// <summary>The signature <paramref name="app"/>'s server would give for <paramref name="text"/>: <c>key:hex</c>.</summary>
    public static string Sign(AppOptions app, string text) =>
        app.Key + ":" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(app.Secret), Encoding.UTF8.GetBytes(text)));

    /// <summary>Whether <paramref name="auth"/> is <paramref name="app"/>'s signature of <paramref name="text"/>.</summary>
    public static bool IsValid(AppOptions app, string? auth, string text)
    {
        if (string.IsNullOrEmpty(auth))
        {
            return false;
        }
        var expected = Encoding.UTF8.GetBytes(Sign(app, text));
        var given = Encoding.UTF8.GetBytes(auth);
        // Hex digits in either case are the same signature.
        Ascii.ToLowerInPlace(given.AsSpan(Math.Min(given.Length, app.Key.Length)), out _);
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }
}
