namespace Herald.Core.Users;

/// <summary>
/// Rules for user ids, wherever one enters (a token's <c>sub</c>, a publish's user targets, a Pusher sign-in): not
/// empty, and no control characters (U+0000–U+001F, U+007F–U+009F). Nothing legitimate holds one, and keeping them out
/// lets <see cref="Apps.AppScope"/> mark another app's users with one, so no default-app user id can ever equal
/// a user name of another app.
/// </summary>
public static class UserIds
{
    /// <summary>Checks <paramref name="id"/>; <paramref name="error"/> says what is wrong.</summary>
    public static bool IsValid(string? id, out string error)
    {
        if (string.IsNullOrEmpty(id))
        {
            error = "user id is empty";
            return false;
        }
        for (var i = 0; i < id.Length; i++)
        {
            if (char.IsControl(id[i]))
            {
                error = $"user id contains a control character (U+{(int)id[i]:X4}) at position {i}";
                return false;
            }
        }
        error = "";
        return true;
    }
}
