using System.Text.Json;
using Herald.Core.Apps;
using Herald.Core.Sessions;

namespace Herald.Core.Protocols.Pusher;

/// <summary>
/// <c>pusher:signin</c>: <c>{"auth":"key:signature","user_data":"{\"id\":...}"}</c>, signed over
/// <c>socket_id::user::user_data</c>. A signed-in connection is its app's user: it receives what is sent to the user
/// (<c>#server-to-user-{id}</c>, publishes to the user), and terminate_connections closes it (4009). A refused
/// sign-in is answered with <c>pusher:error</c> 4009 and the connection is closed, as Pusher does.
/// </summary>
internal static class PusherSignin
{
    public static void SignIn(ClientSession session, PusherConnectionState state, PusherRequest request)
    {
        var connection = session.Connection;
        var app = state.App;
        using var data = request.DataObject();
        var auth = PusherRequest.StringField(data, "auth");
        var userData = PusherRequest.StringField(data, "user_data");
        if (userData is null)
        {
            PusherProtocol.Mistake(session, "pusher:signin needs data {\"auth\":...,\"user_data\":...} from your user authentication endpoint");
            return;
        }
        if (!PusherSignature.IsValid(app, auth, PusherSignature.SigninText(connection.Id, userData)))
        {
            connection.DisconnectWithCloseCode(PusherCloseCodes.Unauthorized,
                $"Invalid signature for pusher:signin: expected HMAC-SHA256 hex of '{connection.Id}::user::<user_data>' keyed with the secret of app {app.Id}");
            return;
        }
        var userId = UserId(userData);
        if (userId is null || !AppScope.IsScopable(userId) || userId.Length > PusherChannelNames.MaxLength)
        {
            connection.DisconnectWithCloseCode(PusherCloseCodes.Unauthorized,
                $"Invalid user_data for pusher:signin: a JSON object with \"id\", a string of 1 to {PusherChannelNames.MaxLength} characters without spaces");
            return;
        }
        if (state.SignedInUser is { } signedIn && signedIn != userId)
        {
            PusherProtocol.Mistake(session, $"this connection is signed in as {signedIn} already: one connection is one user");
            return;
        }
        if (!session.TryBecomeUser(AppScope.ScopeUser(app, userId), null, out var error))
        {
            connection.DisconnectWithCloseCode(PusherCloseCodes.Unauthorized, error.Message);
            return;
        }
        state.SignedInUser = userId;
        connection.ExpiresAtTicks = 0; // signed in within the grace of user_authentication_required
        connection.TrySend(PusherFrames.SigninSuccess(userData));
    }

    private static string? UserId(string userData)
    {
        try
        {
            using var document = JsonDocument.Parse(userData);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("id"u8, out var id) && id.ValueKind == JsonValueKind.String
                ? id.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
