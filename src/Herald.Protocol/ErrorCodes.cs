namespace Herald.Protocol;

/// <summary>
/// Stable numeric error codes, shared by native-protocol replies and the HTTP API. A code never changes meaning;
/// new codes are only added.
/// </summary>
public static class ErrorCodes
{
    /// <summary>The server failed; the request may be retried.</summary>
    public const int Internal = 100;
    /// <summary>Missing or invalid credentials (API key, later tokens).</summary>
    public const int Unauthorized = 101;
    /// <summary>The method (native command or HTTP API method) does not exist.</summary>
    public const int UnknownMethod = 102;
    /// <summary>The caller may not do this (for example client publish is disabled).</summary>
    public const int PermissionDenied = 103;
    /// <summary>The request is malformed: invalid JSON, a missing or ill-typed field.</summary>
    public const int BadRequest = 104;
    /// <summary>A native client sent a command before <c>connect</c>.</summary>
    public const int NotConnected = 105;
    /// <summary>A native client sent <c>connect</c> twice.</summary>
    public const int AlreadyConnected = 106;
    /// <summary>The channel name is empty, too long or has forbidden characters.</summary>
    public const int InvalidChannel = 107;
    /// <summary>A configured limit was reached (channels per connection, attributes, ...).</summary>
    public const int LimitExceeded = 108;
    /// <summary>The token has expired: get a new one (refresh, or connect again with it).</summary>
    public const int TokenExpired = 109;
    /// <summary>The message is larger than <c>max_message_size</c>.</summary>
    public const int MessageTooLarge = 110;
    /// <summary>A publish named no target (channel, channels or where).</summary>
    public const int NoTarget = 111;
    /// <summary>Attributes are not a flat JSON object of string, number or boolean values.</summary>
    public const int InvalidAttributes = 112;
    /// <summary>The channel's namespace (the part before <c>:</c>) is not configured.</summary>
    public const int UnknownNamespace = 113;
    /// <summary>History or inbox storage failed (disk full, database error); live delivery goes on. Retry later.</summary>
    public const int StoreUnavailable = 114;
    /// <summary>
    /// Text that no conforming client could read: bytes that are not valid UTF-8, or a JSON string with a lone
    /// surrogate escape (<c>"\ud800"</c> without its pair). Refused where it enters, before anything is stored or sent.
    /// </summary>
    public const int InvalidText = 115;
}
