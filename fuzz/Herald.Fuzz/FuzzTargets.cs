using Herald.Fuzz.Targets;

namespace Herald.Fuzz;

/// <summary>Every fuzz target by name: what fuzz/run.sh, the corpus folders and the smoke tests use.</summary>
internal static class FuzzTargets
{
    /// <summary>The names, in the order the docs list them.</summary>
    public static readonly string[] Names = ["websocket", "upgrade", "native", "plain", "publish", "udp", "udp-signed", "token"];

    /// <summary>A fresh target (each holds its own node); null for an unknown name.</summary>
    public static FuzzTarget? Create(string name) => name switch
    {
        "websocket" => new WebSocketFramesTarget(),
        "upgrade" => new UpgradeHeadTarget(),
        "native" => new NativeCommandTarget(),
        "plain" => new PlainAttributesTarget(),
        "publish" => new PublishBodyTarget(),
        "udp" => new UdpDatagramTarget(signed: false),
        "udp-signed" => new UdpDatagramTarget(signed: true),
        "token" => new TokenClaimsTarget(),
        _ => null,
    };
}
