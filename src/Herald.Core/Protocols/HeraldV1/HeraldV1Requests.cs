using System.Text.Json;
using Herald.Core.Attributes;
using Herald.Core.Engine;
using Herald.Core.Sessions;
using Herald.Protocol;

namespace Herald.Core.Protocols.HeraldV1;

/// <summary>
/// Reads the <c>params</c> of herald.v1 commands (docs/protocol.md) into the session's typed requests. The params are
/// valid JSON in valid text (checked where the frame entered). What cannot be read becomes the error the session
/// replies with at its step for that field.
/// </summary>
internal static class HeraldV1Requests
{
    /// <summary><c>connect</c>: <c>{"token"?,"attrs"?:{...},"since"?:{"channel":{"offset":N,"epoch":"E"},...}}</c>.</summary>
    public static ConnectRequest Connect(ReadOnlyMemory<byte> parameters, int maxAttributes)
    {
        var attributes = AttributeSet.Empty;
        CommandError? attributesError = null;
        if (JsonObjectFields.TryGetRaw(parameters, "attrs"u8, out var raw, out var type) && type != JsonTokenType.Null
            && !AttributeJson.TryParseAttributes(raw.Span, maxAttributes, out attributes, out var code, out var error))
        {
            attributesError = new CommandError(code, error);
        }
        JsonObjectFields.TryGetString(parameters, "token"u8, out var token);
        var since = TryReadRecoveries(parameters, out var recoveries, out var sinceError) ? (CommandError?)null : new CommandError(ErrorCodes.BadRequest, sinceError);
        return new ConnectRequest(token, attributes, attributesError, recoveries, since);
    }

    /// <summary><c>subscribe</c>: <c>{"channel","token"?,"since"?:{"offset":N,"epoch":"E"}}</c>.</summary>
    public static SubscribeRequest Subscribe(ReadOnlyMemory<byte> parameters)
    {
        JsonObjectFields.TryGetString(parameters, "channel"u8, out var channel);
        JsonObjectFields.TryGetString(parameters, "token"u8, out var token);
        var sinceError = TryReadSince(parameters, out var since, out var error) ? (CommandError?)null : new CommandError(ErrorCodes.BadRequest, error);
        return new SubscribeRequest(channel, token, since, sinceError);
    }

    /// <summary><c>publish</c>: <c>{"channel","data":any JSON}</c>.</summary>
    public static ClientPublishRequest Publish(ReadOnlyMemory<byte> parameters)
    {
        JsonObjectFields.TryGetString(parameters, "channel"u8, out var channel);
        var found = JsonObjectFields.TryGetRaw(parameters, "data"u8, out var data, out var type);
        return new ClientPublishRequest(channel, found ? data : (ReadOnlyMemory<byte>?)null, type == JsonTokenType.String);
    }

    /// <summary><c>presence</c>: <c>{"channel","cursor"?,"limit"?}</c> (limit 100 unless a number is given).</summary>
    public static PresenceQuery Presence(ReadOnlyMemory<byte> parameters)
    {
        JsonObjectFields.TryGetString(parameters, "channel"u8, out var channel);
        JsonObjectFields.TryGetString(parameters, "cursor"u8, out var cursor);
        var limit = JsonObjectFields.TryGetRaw(parameters, "limit"u8, out var raw, out var type) && type == JsonTokenType.Number
            && int.TryParse(raw.Span, out var l) ? l : 100;
        return new PresenceQuery(channel, cursor, limit);
    }

    /// <summary><c>inbox_ack</c>: <c>{"offset":N}</c>; null when it is missing or not a whole number.</summary>
    public static ulong? InboxAckOffset(ReadOnlyMemory<byte> parameters) =>
        JsonObjectFields.TryGetRaw(parameters, "offset"u8, out var raw, out var type) && type == JsonTokenType.Number
        && ulong.TryParse(raw.Span, out var offset) ? offset : null;

    /// <summary>A string field (<c>channel</c>, <c>token</c>), null when missing or not a string.</summary>
    public static string? StringField(ReadOnlyMemory<byte> parameters, ReadOnlySpan<byte> name)
    {
        JsonObjectFields.TryGetString(parameters, name, out var value);
        return value;
    }

    /// <summary>Reads a <c>since</c> object <c>{"offset":N,"epoch":"E"}</c>. Absent: null, no error.</summary>
    private static bool TryReadSince(ReadOnlyMemory<byte> parameters, out StreamPosition? since, out string error)
    {
        since = null;
        error = "";
        if (!JsonObjectFields.TryGetRaw(parameters, "since"u8, out var raw, out var type) || type == JsonTokenType.Null)
        {
            return true;
        }
        return TryReadPosition(raw, out since, out error);
    }

    /// <summary>Reads connect's <c>since</c>: <c>{"channel":{"offset":N,"epoch":"E"},...}</c> for channels from the token.</summary>
    private static bool TryReadRecoveries(ReadOnlyMemory<byte> parameters, out Dictionary<string, StreamPosition>? recover, out string error)
    {
        recover = null;
        error = "";
        if (!JsonObjectFields.TryGetRaw(parameters, "since"u8, out var raw, out var type) || type == JsonTokenType.Null)
        {
            return true;
        }
        error = "connect's \"since\" must map channels to {\"offset\":N,\"epoch\":\"E\"}";
        if (type != JsonTokenType.StartObject)
        {
            return false;
        }
        using var document = JsonDocument.Parse(raw);
        recover = new Dictionary<string, StreamPosition>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (!TryReadPosition(System.Text.Encoding.UTF8.GetBytes(property.Value.GetRawText()), out var position, out _) || position is null)
            {
                return false;
            }
            recover[property.Name] = position.Value;
        }
        error = "";
        return true;
    }

    private static bool TryReadPosition(ReadOnlyMemory<byte> raw, out StreamPosition? position, out string error)
    {
        position = null;
        error = "\"since\" must be {\"offset\":<the last offset you saw>,\"epoch\":\"<the epoch from the subscribe reply>\"}";
        try
        {
            using var document = JsonDocument.Parse(raw);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("offset", out var offset) || offset.ValueKind != JsonValueKind.Number || !offset.TryGetUInt64(out var value)
                || (root.TryGetProperty("epoch", out var epoch) && epoch.ValueKind != JsonValueKind.String))
            {
                return false;
            }
            position = new StreamPosition(value, root.TryGetProperty("epoch", out var e) ? e.GetString()! : "");
            error = "";
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
