using System.Text.Json;

namespace Herald.Protocol;

/// <summary>Parses native-protocol command frames without building a document.</summary>
public static class ClientCommandParser
{
    /// <summary>
    /// Parses one command. On failure <paramref name="error"/> says what is wrong in words a client developer can act
    /// on, and <paramref name="command"/> still carries the id when one was read, so the error can be correlated.
    /// </summary>
    public static bool TryParse(ReadOnlyMemory<byte> utf8, out ClientCommand command, out string? error)
    {
        ulong id = 0;
        string? method = null;
        ReadOnlyMemory<byte> parameters = default;
        command = default;
        try
        {
            var reader = new Utf8JsonReader(utf8.Span, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "a command must be a JSON object such as {\"id\":1,\"method\":\"subscribe\",\"params\":{\"channel\":\"news\"}}";
                return false;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetUInt64(out id) || id == 0)
                    {
                        error = "\"id\" must be a positive integer";
                        return false;
                    }
                }
                else if (reader.ValueTextEquals("method"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        command = new ClientCommand(id, "", default);
                        error = "\"method\" must be a string";
                        return false;
                    }
                    method = InternMethod(ref reader);
                }
                else if (reader.ValueTextEquals("params"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Null)
                    {
                        continue;
                    }
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        command = new ClientCommand(id, method ?? "", default);
                        error = "\"params\" must be a JSON object";
                        return false;
                    }
                    var start = (int)reader.TokenStartIndex;
                    reader.Skip();
                    parameters = utf8.Slice(start, (int)reader.BytesConsumed - start);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                command = new ClientCommand(id, method ?? "", default);
                error = "invalid JSON after the command object";
                return false;
            }
        }
        catch (JsonException ex)
        {
            command = new ClientCommand(id, method ?? "", default);
            error = "invalid JSON: " + ex.Message;
            return false;
        }
        catch (InvalidOperationException)
        {
            // Text that JsonText refuses (callers check it first): never an exception out of the parser.
            command = new ClientCommand(id, method ?? "", default);
            error = "the command is not valid text (UTF-8 without lone surrogate escapes)";
            return false;
        }
        command = new ClientCommand(id, method ?? "", parameters);
        if (method is null)
        {
            error = "the command has no \"method\"";
            return false;
        }
        error = null;
        return true;
    }

    /// <summary>
    /// The command's <c>id</c> when one can be read, else 0: for the error reply to a message that is otherwise
    /// unreadable (invalid text, invalid JSON after the id). Never throws.
    /// </summary>
    public static ulong PeekId(ReadOnlySpan<byte> utf8)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return 0;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                // A raw comparison: unescaping a name with a lone surrogate escape would throw.
                var isId = !reader.ValueIsEscaped && reader.ValueSpan.SequenceEqual("id"u8);
                reader.Read();
                if (isId)
                {
                    return reader.TokenType == JsonTokenType.Number && reader.TryGetUInt64(out var id) ? id : 0;
                }
                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }
        return 0;
    }

    private static string InternMethod(ref Utf8JsonReader reader)
    {
        // Known names come back as the same string instance: no allocation per command on the hot path.
        if (reader.ValueTextEquals("subscribe"u8)) return ProtocolNames.Methods.Subscribe;
        if (reader.ValueTextEquals("unsubscribe"u8)) return ProtocolNames.Methods.Unsubscribe;
        if (reader.ValueTextEquals("publish"u8)) return ProtocolNames.Methods.Publish;
        if (reader.ValueTextEquals("pong"u8)) return ProtocolNames.Methods.Pong;
        if (reader.ValueTextEquals("ping"u8)) return ProtocolNames.Methods.Ping;
        if (reader.ValueTextEquals("connect"u8)) return ProtocolNames.Methods.Connect;
        if (reader.ValueTextEquals("attrs"u8)) return ProtocolNames.Methods.Attrs;
        if (reader.ValueTextEquals("refresh"u8)) return ProtocolNames.Methods.Refresh;
        if (reader.ValueTextEquals("inbox_ack"u8)) return ProtocolNames.Methods.InboxAck;
        if (reader.ValueTextEquals("presence"u8)) return ProtocolNames.Methods.Presence;
        if (reader.ValueTextEquals("presence_stats"u8)) return ProtocolNames.Methods.PresenceStats;
        var name = reader.GetString() ?? "";
        return name.Length > 64 ? name[..64] + "..." : name;
    }
}
