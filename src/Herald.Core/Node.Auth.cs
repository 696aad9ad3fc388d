using Herald.Core.Attributes;
using Herald.Core.Auth;
using Herald.Core.Connections;
using Herald.Core.Protocols.Plain;
using Herald.Protocol;

namespace Herald.Core;

public sealed partial class Node
{
    /// <summary>
    /// Authenticates a plain client that passed <c>?token=</c> (or must, when tokens are required): a valid token makes
    /// it ready with the token's user, attributes and channels; otherwise it is closed with 4503 (invalid or missing)
    /// or 4005 (expired).
    /// </summary>
    public ValueTask AuthenticatePlainAsync(Connection connection, string? token, CancellationToken cancellation = default) =>
        PlainProtocol.AuthenticateAsync(new ClientSession(this, connection), token, cancellation);

    private ValueTask<TokenResult> VerifyAsync(string token, CancellationToken cancellation) =>
        _verifier?.VerifyAsync(token, cancellation)
        ?? ValueTask.FromResult(TokenResult.Refused(TokenFailure.NotConfigured,
            "this server has no key to verify tokens: set token_secret, token_public_key or token_jwks_url"));

    private void Refuse(Connection connection, TokenResult result)
    {
        NodeLog.AuthRefused(_logger, connection.Id, connection.RemoteAddress, result.Error);
        var code = result.Failure == TokenFailure.Expired ? DisconnectCodes.TokenExpired : DisconnectCodes.Unauthorized;
        connection.Disconnect(code, result.Error);
    }

    /// <summary>
    /// Makes an authenticated connection ready: user (within the per-user limit), attributes, expiry, the token's
    /// channels. False, with the reason, when the user has too many connections.
    /// </summary>
    private bool TryAdmit(Connection connection, TokenClaims? claims, AttributeSet clientAttributes, out string error)
    {
        var user = claims?.UserId ?? "";
        if (user.Length > 0 && !TryAddUserConnection(user, connection))
        {
            error = $"user '{user}' already has {Options.MaxConnectionsPerUser} connections (setting max_connections_per_user)";
            return false;
        }
        connection.UserId = user;
        connection.Info = claims?.Info;
        connection.TokenAttributes = claims?.Attributes;
        connection.ExpiresAtTicks = ExpiryTicks(claims);
        _index.Set(connection, Merge(clientAttributes, claims?.Attributes));
        foreach (var channel in claims?.Channels ?? [])
        {
            // Channels named in a token are trusted (no permission check) but must be valid, in a configured
            // namespace, and within the per-connection limit.
            if (!Channels.ChannelName.IsValid(channel, out var invalid) || _policy.Resolve(channel, out invalid) is null)
            {
                NodeLog.TokenChannelSkipped(_logger, connection.Id, channel, invalid);
                continue;
            }
            if (connection.ChannelCount >= Options.MaxChannelsPerConnection)
            {
                NodeLog.TokenChannelSkipped(_logger, connection.Id, channel, "max_channels_per_connection reached");
                continue;
            }
            AddSubscription(connection, channel);
        }
        connection.LastPingTicks = NowTicks;
        connection.MarkReady();
        if (connection.State >= ConnectionState.Closing)
        {
            OnClosedCleanupRace(connection);
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
        var remaining = expires - _time.GetUtcNow();
        return NowTicks + Math.Max(1, remaining.Ticks);
    }

    private AttributeSet Merge(AttributeSet fromClient, AttributeSet? fromToken)
    {
        if (Options.AttributesFrom == AttributeSource.Token || fromClient.Count == 0)
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

    /// <summary>A connection closed while it was being admitted: undo what admission added.</summary>
    private void OnClosedCleanupRace(Connection connection)
    {
        if (!_connections.TryGet(connection.Id, out _))
        {
            foreach (var channel in connection.MarkClosedAndTakeChannels())
            {
                RemoveFromChannel(channel, connection);
                PresenceLeft(connection, channel);
            }
            _index.Remove(connection);
            if (connection.UserId.Length > 0)
            {
                RemoveUserConnection(connection.UserId, connection);
            }
        }
    }
}
