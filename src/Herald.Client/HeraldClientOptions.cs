namespace Herald.Client;

/// <summary>How a <see cref="HeraldClient"/> connects.</summary>
public sealed record HeraldClientOptions
{
    /// <summary>The server, e.g. <c>ws://localhost:6552/</c>.</summary>
    public required Uri Url { get; init; }

    /// <summary>Returns the connection token (called at every connect and before the token expires); null: no token.</summary>
    public Func<CancellationToken, ValueTask<string?>>? GetToken { get; init; }

    /// <summary>Attributes to announce (servers with attributes_from=token ignore and refuse them).</summary>
    public IReadOnlyDictionary<string, string>? Attributes { get; init; }

    /// <summary>First delay before reconnecting; it doubles (with jitter) up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan MinReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest delay between reconnect attempts.</summary>
    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>How long a command waits for its reply.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
