using System.Text.Json;
using Herald.Core.Engine;
using Herald.Core.Sessions;

namespace Herald.Core.Protocols.HeraldV1;

/// <summary>Writes the <c>result</c> objects of herald.v1 replies (docs/protocol.md); the HTTP API shares some of them.</summary>
internal static class HeraldV1Results
{
    /// <summary>
    /// The connect result: <c>{"client","version","ping","pong","user"?,"expires_in"?,"subs"?:{channel:{stream}},"inbox"?}</c>.
    /// </summary>
    public static void WriteConnect(Utf8JsonWriter w, ConnectResult result)
    {
        w.WriteString("client"u8, result.ClientId);
        w.WriteString("version"u8, result.ServerVersion);
        w.WriteNumber("ping"u8, (int)result.PingInterval.TotalSeconds);
        w.WriteNumber("pong"u8, (int)result.PongTimeout.TotalSeconds);
        if (result.UserId.Length > 0)
        {
            w.WriteString("user"u8, result.UserId);
        }
        if (result.ExpiresInSeconds is { } expiresIn)
        {
            w.WriteNumber("expires_in"u8, expiresIn);
        }
        if (result.Subscriptions.Count > 0)
        {
            w.WriteStartObject("subs"u8);
            foreach (var subscription in result.Subscriptions)
            {
                w.WriteStartObject(subscription.Channel);
                if (subscription.Stream is not null)
                {
                    WriteStreamState(w, subscription.Stream);
                }
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        if (result.Inbox is not null)
        {
            WriteInbox(w, result.Inbox);
        }
    }

    /// <summary>A stream's state: <c>"offset":N,"epoch":"E"</c> and, after a recovery, <c>"recovered":bool,"publications":[...]</c>.</summary>
    public static void WriteStreamState(Utf8JsonWriter w, StreamState state)
    {
        w.WriteNumber("offset"u8, state.Position.Offset);
        w.WriteString("epoch"u8, state.Position.Epoch);
        if (state.Recovered is { } recovered)
        {
            w.WriteBoolean("recovered"u8, recovered);
            WritePublications(w, state.Publications);
        }
    }

    /// <summary>
    /// Writes <c>"publications":[{"offset":N,"event":"e","data":...}...]</c> (no event: none was named), each with its
    /// stored <c>"time"</c> after the offset when <paramref name="withTime"/> (the HTTP API's history and inbox).
    /// </summary>
    public static void WritePublications(Utf8JsonWriter w, IReadOnlyList<StoredPublication> publications, bool withTime = false)
    {
        w.WriteStartArray("publications"u8);
        foreach (var publication in publications)
        {
            w.WriteStartObject();
            w.WriteNumber("offset"u8, publication.Offset);
            if (withTime)
            {
                w.WriteString("time"u8, publication.Time);
            }
            if (publication.Event is { } eventName)
            {
                w.WriteString("event"u8, eventName);
            }
            w.WritePropertyName("data"u8);
            w.WriteRawValue(publication.Data, skipInputValidation: true);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>Writes <c>"inbox":{"offset":N,"acked":N,"publications":[...]}</c>.</summary>
    public static void WriteInbox(Utf8JsonWriter w, InboxPage inbox)
    {
        w.WriteStartObject("inbox"u8);
        w.WriteNumber("offset"u8, inbox.Offset);
        w.WriteNumber("acked"u8, inbox.Acked);
        WritePublications(w, inbox.Publications);
        w.WriteEndObject();
    }

    /// <summary>Writes <c>"members":[{"client","user","info"}...],"cursor":...</c>.</summary>
    public static void WritePresencePage(Utf8JsonWriter w, PresencePage page)
    {
        w.WriteStartArray("members"u8);
        foreach (var member in page.Members)
        {
            w.WriteStartObject();
            w.WriteString("client"u8, member.ClientId);
            w.WriteString("user"u8, member.UserId);
            if (member.Info is not null)
            {
                w.WritePropertyName("info"u8);
                w.WriteRawValue(member.Info, skipInputValidation: true);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (page.NextCursor is not null)
        {
            w.WriteString("cursor"u8, page.NextCursor);
        }
    }
}
