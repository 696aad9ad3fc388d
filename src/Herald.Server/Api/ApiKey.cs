namespace Herald.Server.Api;

/// <summary>What an API key may do.</summary>
public enum ApiKeyScope
{
    /// <summary>Only <c>publish</c>: for backends that send notifications.</summary>
    Publish,

    /// <summary>Every API method.</summary>
    Full,
}

/// <summary>A named API key. A bare string converts to a key with full access.</summary>
/// <param name="Name">Shown in logs instead of the key itself.</param>
/// <param name="Key">The secret.</param>
/// <param name="Scope">What it may call.</param>
public sealed record ApiKey(string Name, string Key, ApiKeyScope Scope)
{
    /// <summary>A full-access key named "default".</summary>
    public static implicit operator ApiKey(string key) => new("default", key, ApiKeyScope.Full);

    /// <summary>Never prints the secret.</summary>
    public override string ToString() => $"{Name} ({Scope})";
}
