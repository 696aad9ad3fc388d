using System.Text.Json;
using Herald.Core.Attributes;
using Herald.Core.Channels;
using Herald.Protocol;

namespace Herald.Core.Routing;

/// <summary>
/// Reads the publish body shared by UDP and HTTP:
/// <c>{"channel":"c"|"channels":["a","b"], "user":"42"|"users":["42","43"], "where":{"k":"v"|["v1","v2"]}, "event":"e", "data":...}</c>.
/// </summary>
public static class PublishRequestParser
{
    /// <summary>Most channels one publish may name.</summary>
    public const int MaxChannels = 1000;

    /// <summary>
    /// Parses <paramref name="utf8"/>, text already checked by <see cref="JsonText"/> where it entered; on failure
    /// <paramref name="errorCode"/> is one of <see cref="ErrorCodes"/>. Never throws.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8, out PublishRequest request, out int errorCode, out string error)
    {
        request = null!;
        string? channel = null;
        List<string>? channels = null;
        List<string>? users = null;
        string? idempotencyKey = null;
        string? eventName = null;
        WhereFilter? where = null;
        byte[]? data = null;
        var dataIsString = false;
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return Fail(out errorCode, out error, ErrorCodes.BadRequest,
                    "a publish must be a JSON object such as {\"where\":{\"school_id\":\"2\"},\"data\":{\"order\":42}}");
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("channel"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Null)
                    {
                        continue;
                    }
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        return Fail(out errorCode, out error, ErrorCodes.BadRequest, "\"channel\" must be a string");
                    }
                    channel = reader.GetString();
                }
                else if (reader.ValueTextEquals("channels"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Null)
                    {
                        continue;
                    }
                    if (reader.TokenType != JsonTokenType.StartArray)
                    {
                        return Fail(out errorCode, out error, ErrorCodes.BadRequest, "\"channels\" must be an array of strings");
                    }
                    channels = [];
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (reader.TokenType != JsonTokenType.String)
                        {
                            return Fail(out errorCode, out error, ErrorCodes.BadRequest, "\"channels\" must be an array of strings");
                        }
                        channels.Add(reader.GetString()!);
                    }
                }
                else if (reader.ValueTextEquals("idempotency_key"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Null)
                    {
                        continue;
                    }
                    if (reader.TokenType != JsonTokenType.String || reader.ValueSpan.Length is 0 or > 256)
                    {
                        return Fail(out errorCode, out error, ErrorCodes.BadRequest, "\"idempotency_key\" must be a string of 1 to 256 bytes");
                    }
                    idempotencyKey = reader.GetString();
                }
                else if (reader.ValueTextEquals("event"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Null)
                    {
                        continue;
                    }
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        return Fail(out errorCode, out error, ErrorCodes.BadRequest, "\"event\" must be a string (an event name such as \"order.shipped\")");
                    }
                    eventName = reader.GetString();
                    if (!EventName.IsValid(eventName, out var eventError))
                    {
                        return Fail(out errorCode, out error, ErrorCodes.BadRequest, eventError);
                    }
                }
                else if (reader.ValueTextEquals("user"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Null)
                    {
                        continue;
                    }
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        return Fail(out errorCode, out error, ErrorCodes.BadRequest, "\"user\" must be a string (a user id)");
                    }
                    (users ??= []).Add(reader.GetString()!);
                }
                else if (reader.ValueTextEquals("users"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Null)
                    {
                        continue;
                    }
                    if (reader.TokenType != JsonTokenType.StartArray)
                    {
                        return Fail(out errorCode, out error, ErrorCodes.BadRequest, "\"users\" must be an array of user ids");
                    }
                    users ??= [];
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (reader.TokenType != JsonTokenType.String)
                        {
                            return Fail(out errorCode, out error, ErrorCodes.BadRequest, "\"users\" must be an array of user ids (strings)");
                        }
                        users.Add(reader.GetString()!);
                    }
                }
                else if (reader.ValueTextEquals("where"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Null)
                    {
                        continue;
                    }
                    if (!AttributeJson.TryReadWhere(ref reader, out var filter, out var whereError))
                    {
                        return Fail(out errorCode, out error, ErrorCodes.BadRequest, whereError);
                    }
                    where = filter;
                }
                else if (reader.ValueTextEquals("data"u8))
                {
                    reader.Read();
                    dataIsString = reader.TokenType == JsonTokenType.String;
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    data = utf8[start..(int)reader.BytesConsumed].ToArray();
                }
                else
                {
                    // Unknown fields are skipped so that newer senders work with this server.
                    reader.Read();
                    reader.Skip();
                }
            }
            if (reader.Read())
            {
                return Fail(out errorCode, out error, ErrorCodes.BadRequest, "invalid JSON after the publish object");
            }
        }
        catch (JsonException ex)
        {
            return Fail(out errorCode, out error, ErrorCodes.BadRequest, "invalid JSON: " + ex.Message);
        }
        catch (InvalidOperationException)
        {
            // A string that cannot be read as text. Ingress checks the text first (JsonText), which also covers "data"
            // (copied as it is): this only keeps the parser from ever throwing.
            return Fail(out errorCode, out error, ErrorCodes.InvalidText, "the publish is not valid text (UTF-8 without lone surrogate escapes)");
        }

        var targets = new List<string>();
        if (channel is not null)
        {
            targets.Add(channel);
        }
        if (channels is not null)
        {
            foreach (var c in channels)
            {
                if (!targets.Contains(c, StringComparer.Ordinal))
                {
                    targets.Add(c);
                }
            }
        }
        if (targets.Count > MaxChannels)
        {
            return Fail(out errorCode, out error, ErrorCodes.LimitExceeded, $"a publish may name at most {MaxChannels} channels");
        }
        foreach (var c in targets)
        {
            if (!ChannelName.IsValid(c, out var channelError))
            {
                return Fail(out errorCode, out error, ErrorCodes.InvalidChannel, channelError);
            }
        }
        // An empty user id is refused, never ignored: dropping it would turn {"user":"","where":{}} into a broadcast.
        if (users is not null && users.Any(u => u.Length == 0))
        {
            return Fail(out errorCode, out error, ErrorCodes.BadRequest, "user ids must not be empty");
        }
        foreach (var u in users ?? [])
        {
            if (!Users.UserIds.IsValid(u, out var userError))
            {
                return Fail(out errorCode, out error, ErrorCodes.BadRequest, userError);
            }
        }
        string[] userTargets = users is null ? [] : [.. users.Distinct(StringComparer.Ordinal)];
        if (userTargets.Length > MaxChannels)
        {
            return Fail(out errorCode, out error, ErrorCodes.LimitExceeded, $"a publish may name at most {MaxChannels} users");
        }
        if (targets.Count == 0 && userTargets.Length == 0 && where is null)
        {
            return Fail(out errorCode, out error, ErrorCodes.NoTarget,
                "the publish has no target: give \"channel\", \"channels\", \"user\", \"users\" or \"where\" (\"where\":{} reaches every connection)");
        }
        if (data is null)
        {
            return Fail(out errorCode, out error, ErrorCodes.BadRequest, "the publish has no \"data\"");
        }
        request = new PublishRequest([.. targets], where, data, dataIsString, userTargets, idempotencyKey) { Event = eventName };
        errorCode = 0;
        error = "";
        return true;
    }

    private static bool Fail(out int code, out string error, int c, string message)
    {
        code = c;
        error = message;
        return false;
    }
}
