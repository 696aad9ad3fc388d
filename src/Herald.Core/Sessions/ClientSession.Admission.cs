using Herald.Core.Attributes;
using Herald.Core.Auth;
using Herald.Core.Channels;
using Herald.Core.Connections;
using Herald.Protocol;

namespace Herald.Core.Sessions;

internal readonly partial struct ClientSession
{
    private ValueTask<TokenResult> VerifyAsync(string token, CancellationToken cancellation) =>
        services.Verifier?.VerifyAsync(token, cancellation)
        ?? ValueTask.FromResult(TokenResult.Refused(TokenFailure.NotConfigured,
            "this server has no key to verify tokens: set token_secret, token_public_key or token_jwks_url"));

    /// <summary>Closes the connection for a token that did not verify: 4005 when it expired, else 4503.</summary>
    private void Refuse(TokenResult result)
    {
        NodeLog.AuthRefused(services.Logger, connection.Id, connection.RemoteAddress, result.Error);
        var code = result.Failure == TokenFailure.Expired ? DisconnectCodes.TokenExpired : DisconnectCodes.Unauthorized;
        connection.Disconnect(code, result.Error);
    }

    /// <summary>
    /// Makes an authenticated connection ready: user (within the per-user limit), attributes, expiry, the token's
    /// channels. False, with the reason, when the user has too many connections.
    /// </summary>
    private bool TryAdmit(TokenClaims? claims, AttributeSet clientAttributes, out string error)
    {
        var options = services.Options;
        var user = claims?.UserId ?? "";
        if (user.Length > 0 && !services.Membership.TryAddUserConnection(user, connection))
        {
            error = $"user '{user}' already has {options.MaxConnectionsPerUser} connections (setting max_connections_per_user)";
            return false;
        }
        connection.UserId = user;
        connection.Info = claims?.Info;
        connection.TokenAttributes = claims?.Attributes;
        connection.ExpiresAtTicks = ExpiryTicks(claims);
        services.Hub.Attributes.Set(connection, Merge(clientAttributes, claims?.Attributes));
        foreach (var channel in claims?.Channels ?? [])
        {
            // Channels named in a token are trusted (no permission check) but must be valid, in a configured
            // namespace, and within the per-connection limit.
            if (!ChannelName.IsValid(channel, out var invalid) || services.Policy.Resolve(channel, out invalid) is null)
            {
                NodeLog.TokenChannelSkipped(services.Logger, connection.Id, channel, invalid);
                continue;
            }
            if (connection.ChannelCount >= options.MaxChannelsPerConnection)
            {
                NodeLog.TokenChannelSkipped(services.Logger, connection.Id, channel, "max_channels_per_connection reached");
                continue;
            }
            services.Membership.Subscribe(connection, channel);
        }
        connection.LastPingTicks = services.Clock.Now;
        connection.MarkReady();
        if (connection.State >= ConnectionState.Closing && !services.Hub.Connections.TryGet(connection.Id, out _))
        {
            // Closed while it was being admitted, after the node's close took it out of the tables: undo what
            // admission added.
            services.Membership.LeaveAll(connection);
        }
        error = "";
        return true;
    }

    /// <summary>The token's expiry on the node's clock, 0 for none.</summary>
    private long ExpiryTicks(TokenClaims? claims)
    {
        if (claims?.ExpiresAt is not { } expires)
        {
            return 0;
        }
        var remaining = expires - services.Time.GetUtcNow();
        return services.Clock.Now + Math.Max(1, remaining.Ticks);
    }

    /// <summary>The attributes a connection gets from what its client says and what its token says.</summary>
    private AttributeSet Merge(AttributeSet fromClient, AttributeSet? fromToken)
    {
        if (services.Options.AttributesFrom == AttributeSource.Token || fromClient.Count == 0)
        {
            return fromToken ?? AttributeSet.Empty;
        }
        if (fromToken is null || fromToken.Count == 0)
        {
            return fromClient;
        }
        // The token's attributes are trusted: they win over what the client says for the same key.
        var pairs = new List<KeyValuePair<string, string>>();
        pairs.AddRange(fromClient.Pairs.ToArray());
        pairs.AddRange(fromToken.Pairs.ToArray());
        return AttributeSet.From(pairs);
    }
}
