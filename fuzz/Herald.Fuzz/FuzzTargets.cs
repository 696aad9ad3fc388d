using Herald.Fuzz.Targets;

namespace Herald.Fuzz;

/// <summary>Every fuzz target by name: what fuzz/run.sh, the corpus folders and the smoke tests use.</summary>
internal static class FuzzTargets
{
    /// <summary>The targets, in the order the docs list them: name, what the input is and where it goes, a factory.</summary>
    public static readonly (string Name, string Description, Func<FuzzTarget> Create)[] All =
    [
        ("websocket", "client bytes after the upgrade -> SocketWebSocket's frame reader, plain and native", () => new WebSocketFramesTarget()),
        ("upgrade", "HTTP request head on the WebSocket port -> UpgradeRequest.Inspect", () => new UpgradeHeadTarget()),
        ("native", "herald.v1 command frame -> ClientCommandParser + the node's command handling", () => new NativeCommandTarget()),
        ("plain", "plain client's attribute object -> AttributeJson.TryParseAttributes + the node's plain handling", () => new PlainAttributesTarget()),
        ("publish", "publish body -> PublishRequestParser + Node.PublishAsync with subscribers", () => new PublishBodyTarget()),
        ("udp", "datagram to the ingress without udp_secret -> UdpIngress", () => new UdpDatagramTarget(signed: false)),
        ("udp-signed", "datagram to the ingress with udp_secret (signed by the harness unless it starts with sha256=) -> UdpIngress", () => new UdpDatagramTarget(signed: true)),
        ("token", "JWT payload (signed by the harness) or token text -> JwtTokenVerifier + plain and native authentication", () => new TokenClaimsTarget()),
    ];

    /// <summary>The target names.</summary>
    public static IEnumerable<string> Names => All.Select(t => t.Name);

    /// <summary>A fresh target (each holds its own node); null for an unknown name.</summary>
    public static FuzzTarget? Create(string name) => All.FirstOrDefault(t => t.Name == name).Create?.Invoke();
}
