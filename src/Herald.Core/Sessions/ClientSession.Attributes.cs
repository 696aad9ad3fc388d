using Herald.Core.Attributes;
using Herald.Protocol;

namespace Herald.Core.Sessions;

internal readonly partial struct ClientSession
{
    /// <summary>
    /// Replaces the attributes the client gave (the token's attributes stay and win for the same key), unless the
    /// server takes attributes only from tokens.
    /// </summary>
    public void SetAttributes(AttributeSet attributes, ICommandReply reply)
    {
        if (!ClientAttributesAllowed(out var error))
        {
            reply.Failed(error);
            return;
        }
        services.Hub.Attributes.Set(connection, Merge(attributes, connection.TokenAttributes));
        reply.Succeeded();
    }

    /// <summary>Whether a client may send attributes; false, with the error, with attributes_from=token.</summary>
    private bool ClientAttributesAllowed(out CommandError error)
    {
        if (services.Options.AttributesFrom != AttributeSource.Token)
        {
            error = default;
            return true;
        }
        error = new CommandError(ErrorCodes.PermissionDenied,
            "this server takes attributes only from the token's attrs claim (setting attributes_from=token); do not send attributes");
        return false;
    }
}
