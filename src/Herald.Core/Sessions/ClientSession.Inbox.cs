using Herald.Core.Engine;
using Herald.Protocol;

namespace Herald.Core.Sessions;

internal readonly partial struct ClientSession
{
    /// <summary>
    /// Acknowledges the user's inbox up to <paramref name="offset"/> (null: the client did not say): entries up to it
    /// are not sent again on the next connect.
    /// </summary>
    public async ValueTask AckInboxAsync(ulong? offset, ICommandReply<InboxAckResult> reply)
    {
        if (connection.UserId.Length == 0)
        {
            reply.Failed(new CommandError(ErrorCodes.PermissionDenied, "inbox_ack needs a user: connect with a token whose sub is the user id"));
            return;
        }
        if (offset is not { } upTo)
        {
            reply.Failed(new CommandError(ErrorCodes.BadRequest, "inbox_ack needs \"offset\": the newest inbox offset you have handled"));
            return;
        }
        ulong acked;
        try
        {
            acked = await services.Inbox.AckAsync(connection.UserId, upTo).ConfigureAwait(false);
            services.Store.Recovered();
        }
        catch (StoreUnavailableException ex)
        {
            services.Store.Failed(ex);
            reply.Failed(new CommandError(ErrorCodes.StoreUnavailable, "storage failed, try again: " + ex.Message));
            return;
        }
        reply.Succeeded(new InboxAckResult(acked));
    }
}
