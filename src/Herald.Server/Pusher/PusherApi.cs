using System.Text.Json;
using Herald.Core;
using Herald.Core.Apps;
using Herald.Core.Engine;
using Herald.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Pusher;

/// <summary>
/// The Pusher HTTP API under <c>/apps/{id}/...</c>, signed as Pusher signs it (<see cref="PusherSignature"/>), for the
/// Pusher server SDKs unchanged: <c>POST events</c>, <c>POST batch_events</c>, <c>GET channels</c>,
/// <c>GET channels/{name}</c>, <c>GET channels/{name}/users</c>, <c>POST users/{id}/terminate_connections</c>. Every
/// name is the app's own, mapped to the node's by <see cref="AppScope"/>. Errors are Pusher's: a status and a plain
/// text explanation.
/// </summary>
internal sealed partial class PusherApi(Node node, HeraldServerOptions options, TimeProvider time, ILogger<PusherApi> logger)
{
    private readonly AppRegistry _apps = options.Apps;

    // Callers cannot fill the log: one line per kind of refusal, and per kind of fault, every 10 s.
    private readonly LogThrottle _refusalLog = LogThrottle.Default(time);
    private readonly LogThrottle _faultLog = LogThrottle.Default(time);

    /// <summary>Answers one request to <c>/apps/{appId}/{**rest}</c>.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        var cancellation = context.RequestAborted;
        try
        {
            var appId = (string?)context.Request.RouteValues["appId"] ?? "";
            if (!_apps.TryGetById(appId, out var app))
            {
                throw new PusherApiException(StatusCodes.Status404NotFound,
                    _apps.All.Count == 0 ? "Unknown app: no Pusher app is configured on this server (setting apps)" : $"Unknown app: no app has id '{appId}'");
            }
            var route = Route(context);
            var query = context.Request.Query.Select(q => new KeyValuePair<string, string>(q.Key, q.Value.ToString())).ToList();
            // The signature first: nothing of the body is read for a caller that cannot sign.
            if (!PusherSignature.TryVerifyQuery(app, context.Request.Method, context.Request.Path.Value ?? "", query, time.GetUtcNow(), out var authError))
            {
                throw new PusherApiException(StatusCodes.Status401Unauthorized, authError);
            }
            var body = await ReadBodyAsync(context, BodyLimit(app), cancellation).ConfigureAwait(false);
            if (!PusherSignature.TryVerifyBody(query, body, out var bodyError))
            {
                throw new PusherApiException(StatusCodes.Status401Unauthorized, bodyError);
            }
            if (!app.Enabled)
            {
                throw new PusherApiException(StatusCodes.Status403Forbidden, $"App '{app.Id}' is disabled (app option enabled)");
            }
            if (!JsonText.TryValidate(body, out var textError))
            {
                throw new PusherApiException(StatusCodes.Status400BadRequest, "Invalid body: " + textError);
            }
            await (route.Kind switch
            {
                RouteKind.Events => TriggerAsync(context, app, body),
                RouteKind.BatchEvents => TriggerBatchAsync(context, app, body),
                RouteKind.Channels => ChannelsAsync(context, app),
                RouteKind.Channel => ChannelAsync(context, app, route.Name),
                RouteKind.ChannelUsers => ChannelUsersAsync(context, app, route.Name),
                _ => TerminateAsync(context, app, route.Name),
            }).ConfigureAwait(false);
        }
        catch (PusherApiException ex)
        {
            await RefuseAsync(context, ex.Status, ex.Message).ConfigureAwait(false);
        }
        catch (StoreUnavailableException ex)
        {
            await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "The engine is unavailable, try again: " + ex.Message).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellation.IsCancellationRequested)
        {
            // A server fault, not the caller's (bad input is refused above): logged once per cause and interval.
            if (_faultLog.ShouldLog(LogThrottle.FaultCause(ex), out var suppressed))
            {
                PusherLog.Failed(logger, context.Request.Method, context.Request.Path.Value ?? "", LogThrottle.Note(suppressed), ex);
            }
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                await WriteTextAsync(context, StatusCodes.Status500InternalServerError, "Internal error: the server logged it; the request may be retried").ConfigureAwait(false);
            }
        }
    }

    private enum RouteKind
    {
        Events,
        BatchEvents,
        Channels,
        Channel,
        ChannelUsers,
        Terminate,
    }

    private readonly record struct ApiRoute(RouteKind Kind, string Name = "");

    /// <summary>Which endpoint the path names, with the method it takes (405 for another, 404 for no endpoint).</summary>
    private static ApiRoute Route(HttpContext context)
    {
        var rest = ((string?)context.Request.RouteValues["rest"] ?? "").Split('/');
        var method = context.Request.Method;
        (ApiRoute Route, string Method)? match = rest switch
        {
            ["events"] => (new ApiRoute(RouteKind.Events), "POST"),
            ["batch_events"] => (new ApiRoute(RouteKind.BatchEvents), "POST"),
            ["channels"] => (new ApiRoute(RouteKind.Channels), "GET"),
            ["channels", var name] when name.Length > 0 => (new ApiRoute(RouteKind.Channel, name), "GET"),
            ["channels", var name, "users"] when name.Length > 0 => (new ApiRoute(RouteKind.ChannelUsers, name), "GET"),
            ["users", var user, "terminate_connections"] when user.Length > 0 => (new ApiRoute(RouteKind.Terminate, user), "POST"),
            _ => null,
        };
        if (match is not { } found)
        {
            throw new PusherApiException(StatusCodes.Status404NotFound, $"Not found: {context.Request.Path} is no Pusher API endpoint " +
                "(events, batch_events, channels, channels/{name}, channels/{name}/users, users/{id}/terminate_connections)");
        }
        if (!string.Equals(method, found.Method, StringComparison.OrdinalIgnoreCase))
        {
            context.Response.Headers.Allow = found.Method;
            throw new PusherApiException(StatusCodes.Status405MethodNotAllowed, $"Method not allowed: use {found.Method} {context.Request.Path}");
        }
        return found.Route;
    }

    /// <summary>
    /// The largest body the app's limits allow: a full batch of events whose data is at the limit, each escaped at worst
    /// (6 bytes per character), naming the most channels; never less than the server's <c>max_message_size</c>.
    /// </summary>
    private long BodyLimit(AppOptions app) =>
        Math.Max(node.Options.MaxMessageSize, (long)app.MaxEventsPerBatch * (6L * app.MaxEventSizeBytes + app.MaxChannelsPerEvent * (PusherNames.MaxNameLength + 3L) + 1024));

    private static async Task<byte[]> ReadBodyAsync(HttpContext context, long limit, CancellationToken cancellation)
    {
        if (context.Request.ContentLength > limit)
        {
            throw TooLarge(limit);
        }
        // Kestrel's own limit is max_message_size, for /api; a Pusher batch may be larger, up to the app's limits.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit + 1;
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        while (true)
        {
            int read;
            try
            {
                read = await context.Request.Body.ReadAsync(chunk, cancellation).ConfigureAwait(false);
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                throw TooLarge(limit);
            }
            if (read == 0)
            {
                return buffer.ToArray();
            }
            if (buffer.Length + read > limit)
            {
                throw TooLarge(limit);
            }
            buffer.Write(chunk, 0, read);
        }
    }

    private static PusherApiException TooLarge(long limit) =>
        new(StatusCodes.Status413PayloadTooLarge, $"Request body too large: the limit is {limit} bytes (app options max_event_size_kb, max_events_per_batch)");

    private Task RefuseAsync(HttpContext context, int status, string message)
    {
        if (_refusalLog.ShouldLog(context.Request.Method + " " + status.ToString(System.Globalization.CultureInfo.InvariantCulture), out var suppressed))
        {
            PusherLog.Refused(logger, context.Request.Method, context.Request.Path.Value ?? "", context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                status, message, LogThrottle.Note(suppressed));
        }
        return context.Response.HasStarted ? Task.CompletedTask : WriteTextAsync(context, status, message);
    }

    private static Task WriteTextAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(message + "\n");
    }

    /// <summary>Writes a 200 JSON reply built by <paramref name="write"/> inside the top-level object.</summary>
    private static async Task WriteJsonAsync<T>(HttpContext context, T state, Action<Utf8JsonWriter, T> write)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.BodyWriter, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        writer.WriteStartObject();
        write(writer, state);
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }
}
