using System.Text;
using System.Text.Json;
using Herald.Core.Auth;
using Herald.Core.Connections;

namespace Herald.Fuzz.Targets;

/// <summary>
/// A connection token. An input that starts with <c>{</c> is a JWT payload, which the harness signs with the node's
/// secret (so the claims are fuzzed past the signature check); any other input is taken as the token text itself.
/// The token goes to <see cref="JwtTokenVerifier.VerifyAsync"/>, then to a real node as a plain client's
/// <c>?token=</c> and in a native <c>connect</c>. Claims are validated by type: a token whose <c>exp</c> is there but
/// not a number is refused.
/// </summary>
internal sealed class TokenClaimsTarget : FuzzTarget
{
    private readonly FaultLog _log = new();
    private readonly FuzzNode _node;
    private readonly JwtTokenVerifier _verifier = new(new TokenOptions { Secret = FuzzNode.Secret }, 32);

    public TokenClaimsTarget() => _node = new FuzzNode(_log);


    public override void Run(byte[] input)
    {
        _log.Clear();
        var isPayload = input.Length > 0 && input[0] == (byte)'{';
        var token = isPayload ? FuzzNode.SignToken(input) : Encoding.UTF8.GetString(input);
        var result = _verifier.VerifyAsync(token).AsTask().GetAwaiter().GetResult();
        if (result.IsValid && isPayload && HasUnreadableExp(input))
        {
            throw new FuzzFinding("a token whose exp is not a number was accepted: " + Encoding.UTF8.GetString(input));
        }
        if (!result.IsValid && (result.Failure == TokenFailure.None || result.Error.Length == 0))
        {
            throw new FuzzFinding($"refused as {result.Failure} with message \"{result.Error}\"");
        }

        var (plain, plainFrames) = _node.OpenPlain(token);
        var plainState = plain.State;
        _node.Close(plain);
        _log.ThrowIfAny();
        plainFrames.CheckAndClear("a plain client with ?token=");
        if (result.IsValid && plainState != ConnectionState.Ready)
        {
            throw new FuzzFinding($"a valid token left the plain connection {plainState}");
        }

        var (native, nativeFrames) = _node.OpenNative(token: token);
        _node.Close(native);
        _log.ThrowIfAny();
        nativeFrames.CheckAndClear("a native client connecting with the token");
        foreach (var text in nativeFrames.Texts)
        {
            using var reply = JsonDocument.Parse(text);
            if (reply.RootElement.TryGetProperty("error", out _) && !reply.RootElement.TryGetProperty("id", out _))
            {
                throw new FuzzFinding("connect was answered with an error without its id: " + text);
            }
        }
    }

    /// <summary>True when the payload is a JSON object with an <c>exp</c> that is neither null nor a number.</summary>
    private static bool HasUnreadableExp(byte[] payload)
    {
        try
        {
            using var document = JsonDocument.Parse(payload);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("exp", out var exp)
                && exp.ValueKind is not (JsonValueKind.Number or JsonValueKind.Null);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public override void Dispose() => _node.Dispose();
}
