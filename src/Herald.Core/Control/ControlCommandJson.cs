using System.Buffers;
using System.Text.Json;
using Herald.Core.Attributes;

namespace Herald.Core.Control;

/// <summary>
/// The form of a control command between the nodes of a cluster (the data of a control message on the broker's
/// broadcast topic): <c>{"m":"disconnect","user":"42","code":4004,"reason":"..."}</c>, with <c>"client"</c> instead of
/// <c>"user"</c> for one connection, <c>"channel"</c> for subscribe and unsubscribe, <c>"attrs"</c> (an attribute
/// object) for attributes.
/// </summary>
/// <remarks>
/// This is exactly the JSON that nodes of the previous version build and parse, and must stay readable both ways:
/// during a rolling upgrade old and new nodes share one cluster. So a new field may be added (readers skip what they
/// do not know) but no field may change its name or meaning, and a command this version does not know ("m") is
/// reported as unknown, not as an error, since a newer node may send it.
/// </remarks>
public static class ControlCommandJson
{
    private const string Disconnect = "disconnect";
    private const string Subscribe = "subscribe";
    private const string Unsubscribe = "unsubscribe";
    private const string Attributes = "attributes";

    /// <summary>Writes <paramref name="command"/> in its wire form.</summary>
    public static byte[] Write(ControlCommand command)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        // Default writer options, as the previous version used: the same command gives the same bytes.
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("m"u8, command switch
            {
                DisconnectCommand => Disconnect,
                SubscribeCommand => Subscribe,
                UnsubscribeCommand => Unsubscribe,
                SetAttributesCommand => Attributes,
                _ => throw new ArgumentException($"{command.GetType().Name} has no wire form", nameof(command)),
            });
            w.WriteString(command.Target.Kind == ControlTargetKind.Client ? "client"u8 : "user"u8, command.Target.Id);
            switch (command)
            {
                case DisconnectCommand disconnect:
                    w.WriteNumber("code"u8, disconnect.Code);
                    w.WriteString("reason"u8, disconnect.Reason);
                    break;
                case SubscribeCommand subscribe:
                    w.WriteString("channel"u8, subscribe.Channel);
                    break;
                case UnsubscribeCommand unsubscribe:
                    w.WriteString("channel"u8, unsubscribe.Channel);
                    break;
                case SetAttributesCommand attributes:
                    // Values as strings: a number or boolean attribute is kept as its JSON text, and the attribute
                    // parser reads "2" and 2 as the same value, so the receiver gets the same set.
                    w.WriteStartObject("attrs"u8);
                    foreach (var (key, value) in attributes.Attributes.Pairs)
                    {
                        w.WriteString(key, value);
                    }
                    w.WriteEndObject();
                    break;
            }
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Reads a command in its wire form. Returns null when its <paramref name="method"/> (<c>"m"</c>) is not one this
    /// version knows; throws <see cref="FormatException"/> when the JSON is not a command.
    /// </summary>
    public static ControlCommand? Read(ReadOnlySpan<byte> json, out string method)
    {
        string? m = null, user = null, client = null, channel = null, reason = null;
        int? code = null;
        AttributeSet? attrs = null;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new FormatException("a control command must be a JSON object");
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                switch (name)
                {
                    case "m":
                        m = StringOrNull(ref reader);
                        break;
                    case "user":
                        user = StringOrNull(ref reader);
                        break;
                    case "client":
                        client = StringOrNull(ref reader);
                        break;
                    case "channel":
                        channel = StringOrNull(ref reader);
                        break;
                    case "reason":
                        reason = StringOrNull(ref reader);
                        break;
                    case "code":
                        code = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var number) ? number : null;
                        break;
                    case "attrs":
                        var start = (int)reader.TokenStartIndex;
                        reader.Skip();
                        var end = (int)reader.BytesConsumed;
                        // Trusted (checked by the node that took the request), so no limit on the count here.
                        attrs = AttributeJson.TryParseAttributes(json[start..end], int.MaxValue, out var set, out _, out var error)
                            ? set
                            : throw new FormatException("\"attrs\": " + error);
                        break;
                    default:
                        reader.Skip(); // a field of a newer version
                        break;
                }
            }
        }
        catch (JsonException ex)
        {
            throw new FormatException("a control command is not valid JSON: " + ex.Message, ex);
        }
        catch (InvalidOperationException ex)
        {
            throw new FormatException("a control command holds text that is not valid: " + ex.Message, ex);
        }

        method = m ?? throw new FormatException("a control command needs \"m\"");
        if (m is not (Disconnect or Subscribe or Unsubscribe or Attributes))
        {
            return null;
        }
        var target = client is { Length: > 0 } ? ControlTarget.Client(client)
            : user is { Length: > 0 } ? ControlTarget.User(user)
            : throw new FormatException($"control command \"{m}\" names no \"user\" or \"client\"");
        return m switch
        {
            Disconnect => new DisconnectCommand(target, code ?? throw Missing("code"), reason ?? ""),
            Subscribe => new SubscribeCommand(target, channel ?? throw Missing("channel")),
            Unsubscribe => new UnsubscribeCommand(target, channel ?? throw Missing("channel")),
            _ => new SetAttributesCommand(target, attrs ?? throw Missing("attrs")),
        };

        FormatException Missing(string field) => new($"control command \"{m}\" needs \"{field}\"");
    }

    private static string? StringOrNull(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }
        reader.Skip();
        return null;
    }
}
