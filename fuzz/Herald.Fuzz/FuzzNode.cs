using System.Security.Cryptography;
using System.Text;
using Herald.Core;
using Herald.Core.Auth;
using Herald.Core.Connections;
using Microsoft.IdentityModel.Tokens;

namespace Herald.Fuzz;

/// <summary>
/// A real node (memory engine, HS256 tokens with <see cref="Secret"/>) for targets whose input goes past the parser
/// into command handling, with helpers to open in-process connections whose frames are checked.
/// </summary>
internal sealed class FuzzNode : IDisposable
{
    /// <summary>The token secret of the node (and of tokens the harnesses sign).</summary>
    public const string Secret = "herald-fuzz-secret";

    private static readonly Encoding StrictUtf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);

    public FuzzNode(FaultLog log)
    {
        Log = log;
        var options = new NodeOptions();
        Node = new Node(options, log.For<Node>(), tokens: new JwtTokenVerifier(new TokenOptions { Secret = Secret }, options.MaxAttributes));
    }

    public FaultLog Log { get; }

    public Node Node { get; }

    /// <summary>A plain connection, authenticated with <paramref name="token"/> when given (as <c>?token=</c> would).</summary>
    public (Connection Connection, ClientFrames Frames) OpenPlain(string? token = null)
    {
        var frames = new ClientFrames(native: false);
        var connection = Node.Open(frames, ConnectionKind.Plain, "127.0.0.1:1", token);
        if (connection.State == ConnectionState.AwaitingConnect)
        {
            Node.AuthenticatePlainAsync(connection, token).AsTask().GetAwaiter().GetResult();
        }
        return (connection, frames);
    }

    /// <summary>A native connection; connected (anonymously, or with <paramref name="token"/>) unless <paramref name="connect"/> is false.</summary>
    public (Connection Connection, ClientFrames Frames) OpenNative(bool connect = true, string? token = null)
    {
        var frames = new ClientFrames(native: true);
        var connection = Node.Open(frames, ConnectionKind.Native, "127.0.0.1:2");
        if (connect)
        {
            var parameters = token is null ? "{}" : "{\"token\":" + System.Text.Json.JsonSerializer.Serialize(token) + "}";
            Send(connection, Encoding.UTF8.GetBytes("{\"id\":1,\"method\":\"connect\",\"params\":" + parameters + "}"));
        }
        return (connection, frames);
    }

    /// <summary>Hands one text message to the node, as the WebSocket transport does (which passes only valid UTF-8).</summary>
    public void Send(Connection connection, byte[] utf8) => Node.OnTextMessageAsync(connection, utf8).AsTask().GetAwaiter().GetResult();

    /// <summary>The client went away.</summary>
    public void Close(Connection connection) => Node.OnClosed(connection, 1000, "");

    /// <summary>An HS256 token whose payload is exactly <paramref name="payload"/>, signed with <see cref="Secret"/>.</summary>
    public static string SignToken(ReadOnlySpan<byte> payload)
    {
        var signingInput = Base64UrlEncoder.Encode("{\"alg\":\"HS256\",\"typ\":\"JWT\"}"u8.ToArray()) + "." + Base64UrlEncoder.Encode(payload.ToArray());
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.ASCII.GetBytes(signingInput));
        return signingInput + "." + Base64UrlEncoder.Encode(signature);
    }

    /// <summary>The input as text when it is valid UTF-8 (what a WebSocket text frame may carry), else null.</summary>
    public static string? AsText(byte[] input)
    {
        try
        {
            return StrictUtf8.GetString(input);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    public void Dispose() => Node.Dispose();
}
