using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Herald.Core;
using Herald.Core.Routing;
using Herald.Core.Engine;
using Herald.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Api;

/// <summary>
/// The HTTP API: <c>POST /api/&lt;method&gt;</c> with a JSON body, JSON replies, errors as
/// <c>{"error":{"code":N,"message":"..."}}</c>. Methods: <c>publish</c>, <c>history</c>, <c>history_remove</c>,
/// <c>inbox</c>, <c>inbox_ack</c>, <c>inbox_delete</c>, <c>online</c>, <c>presence</c>, <c>presence_stats</c>, <c>channels</c>,
/// <c>count</c>, <c>disconnect</c>, <c>subscribe</c>, <c>unsubscribe</c>, <c>attributes</c>, <c>info</c>.
/// </summary>
internal sealed partial class HttpApi(Node node, ApiKeyCheck keys, EngineStores engine, TimeProvider time, ILogger<HttpApi> logger)
{
    public async Task HandleAsync(HttpContext context)
    {
        var method = (string?)context.Request.RouteValues["method"] ?? "";
        if (!HttpMethods.IsPost(context.Request.Method))
        {
            context.Response.Headers.Allow = "POST";
            await RefuseAsync(context, method, StatusCodes.Status405MethodNotAllowed, ErrorCodes.BadRequest,
                $"use POST /api/{method} with a JSON body").ConfigureAwait(false);
            return;
        }
        if (!Methods.Contains(method))
        {
            await RefuseAsync(context, method, StatusCodes.Status404NotFound, ErrorCodes.UnknownMethod,
                $"unknown API method \"{method}\"; methods are: {string.Join(", ", Methods)}").ConfigureAwait(false);
            return;
        }
        if (!keys.IsAllowed(context, method, out var refusal, out var forbidden))
        {
            await RefuseAsync(context, method, forbidden ? StatusCodes.Status403Forbidden : StatusCodes.Status401Unauthorized,
                forbidden ? ErrorCodes.PermissionDenied : ErrorCodes.Unauthorized, refusal).ConfigureAwait(false);
            return;
        }
        var max = node.Options.MaxMessageSize;
        if (context.Request.ContentLength > max)
        {
            await RefuseAsync(context, method, StatusCodes.Status413PayloadTooLarge, ErrorCodes.MessageTooLarge,
                $"body larger than {max} bytes (setting max_message_size)").ConfigureAwait(false);
            return;
        }
        PooledBytes? body;
        try
        {
            body = await ReadBodyAsync(context.Request.BodyReader, max, context.RequestAborted).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            body = null; // Kestrel's own limit (a chunked body) tripped first: same answer
        }
        if (body is null)
        {
            await RefuseAsync(context, method, StatusCodes.Status413PayloadTooLarge, ErrorCodes.MessageTooLarge,
                $"body larger than {max} bytes (setting max_message_size)").ConfigureAwait(false);
            return;
        }
        try
        {
            // The one check of the body's text, for every method: what passes is valid UTF-8 without lone surrogate
            // escapes, so each string read from it and the data passed on to clients is valid text.
            if (!JsonText.TryValidate(body.Value.Span, out var textError))
            {
                await RefuseAsync(context, method, StatusCodes.Status400BadRequest, ErrorCodes.InvalidText, textError).ConfigureAwait(false);
                return;
            }
            await (method switch
            {
                "publish" => PublishAsync(context, body.Value.Span),
                "info" => InfoAsync(context),
                _ => StorageMethodAsync(context, method, body.Value.Span.ToArray()),
            }).ConfigureAwait(false);
        }
        catch (NodeRequestException ex)
        {
            await RefuseAsync(context, method, ex.Code == ErrorCodes.StoreUnavailable ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status400BadRequest,
                ex.Code, ex.Message).ConfigureAwait(false);
        }
        catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested)
        {
            // A server fault, not the caller's (bad input is refused above with 400): the stack trace is logged once
            // per cause and interval, and the reply keeps the API's error shape.
            if (_faultLog.ShouldLog(LogThrottle.FaultCause(ex), out var suppressed))
            {
                ServerLog.ApiFailed(logger, method, LogThrottle.Note(suppressed), ex);
            }
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                await ApiError.WriteAsync(context, StatusCodes.Status500InternalServerError, ErrorCodes.Internal,
                    $"internal error in {method}: the server logged it; the request may be retried").ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body.Value.Array);
        }
    }

    private static readonly string[] Methods =
    [
        "publish", "history", "history_remove", "inbox", "inbox_ack", "inbox_delete",
        "online", "presence", "presence_stats", "channels", "count", "disconnect", "subscribe", "unsubscribe", "attributes", "info",
    ];

    private Task PublishAsync(HttpContext context, ReadOnlySpan<byte> body)
    {
        if (!PublishRequestParser.TryParse(body, out var request, out var code, out var error))
        {
            return RefuseAsync(context, "publish", StatusCodes.Status400BadRequest, code, error);
        }
        return PublishParsedAsync(context, request);
    }

    private async Task PublishParsedAsync(HttpContext context, PublishRequest request)
    {
        var result = await node.PublishAsync(request, context.RequestAborted).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            var status = result.ErrorCode == ErrorCodes.StoreUnavailable ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status400BadRequest;
            await RefuseAsync(context, "publish", status, result.ErrorCode, result.Error).ConfigureAwait(false);
            return;
        }
        await WriteJsonAsync(context, result, static (w, r) =>
        {
            if (r.Recipients >= 0)
            {
                w.WriteNumber("recipients"u8, r.Recipients); // unknown in a cluster, where every node delivers
            }
            if (r.Duplicate)
            {
                w.WriteBoolean("duplicate"u8, true);
            }
            if (r.Positions is { Count: 1 } single)
            {
                var (_, position) = single.First();
                w.WriteNumber("offset"u8, position.Offset);
                w.WriteString("epoch"u8, position.Epoch);
            }
            else if (r.Positions is { Count: > 1 } positions)
            {
                w.WriteStartObject("channels"u8);
                foreach (var (channel, position) in positions)
                {
                    w.WriteStartObject(channel);
                    w.WriteNumber("offset"u8, position.Offset);
                    w.WriteString("epoch"u8, position.Epoch);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            if (r.InboxOffsets is { Count: > 0 } inbox)
            {
                w.WriteStartObject("inbox"u8);
                foreach (var (user, offset) in inbox)
                {
                    w.WriteNumber(user, offset);
                }
                w.WriteEndObject();
            }
        }).ConfigureAwait(false);
    }

    private async Task InfoAsync(HttpContext context)
    {
        var counters = node.Counters;
        var reply = new InfoReply(node.Id, ServerInfo.Version, (long)(time.GetUtcNow() - node.StartedAt).TotalSeconds,
            node.ConnectionCount, node.UserCount, node.ChannelCount, counters.Publishes, counters.Deliveries, counters.SlowConsumers,
            engine.Name, await NodesAsync(context.RequestAborted).ConfigureAwait(false));
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(reply, ApiJsonContext.Relaxed.InfoReply)).ConfigureAwait(false);
    }

    /// <summary>Every live node of the cluster (this one alone when not clustered), this node's count current, the others' as of their last heartbeat.</summary>
    private async Task<IReadOnlyList<NodeReply>> NodesAsync(CancellationToken cancellation)
    {
        if (engine.Redis is not { } redis)
        {
            return [new NodeReply(node.Id, node.StartedAt, node.ConnectionCount, true)];
        }
        IReadOnlyList<Herald.Redis.RedisNodeInfo> nodes;
        try
        {
            nodes = await redis.GetNodesAsync(cancellation).ConfigureAwait(false);
        }
        catch (StoreUnavailableException ex)
        {
            throw new NodeRequestException(ErrorCodes.StoreUnavailable, "the cluster's engine is unavailable, try again: " + ex.Message);
        }
        var list = nodes.Select(n => n.Id == node.Id ? new NodeReply(n.Id, n.StartedAt, node.ConnectionCount, true) : new NodeReply(n.Id, n.StartedAt, n.Connections, false)).ToList();
        if (!list.Any(n => n.Self))
        {
            list.Add(new NodeReply(node.Id, node.StartedAt, node.ConnectionCount, true)); // not registered yet
        }
        return list;
    }

    // Callers cannot fill the log: one line per kind of refusal, and per kind of fault, every 10 s.
    private readonly LogThrottle _refusalLog = LogThrottle.Default(time);
    private readonly LogThrottle _faultLog = LogThrottle.Default(time);

    private Task RefuseAsync(HttpContext context, string method, int status, int code, string message)
    {
        if (_refusalLog.ShouldLog(method + " " + code.ToString(System.Globalization.CultureInfo.InvariantCulture), out var suppressed))
        {
            ServerLog.ApiRefused(logger, method, context.Connection.RemoteIpAddress?.ToString() ?? "unknown", status, message, LogThrottle.Note(suppressed));
        }
        return ApiError.WriteAsync(context, status, code, message);
    }

    /// <summary>Reads the whole body into a pooled array, or returns null as soon as it exceeds <paramref name="max"/>.</summary>
    private static async Task<PooledBytes?> ReadBodyAsync(PipeReader reader, int max, CancellationToken cancellation)
    {
        while (true)
        {
            var read = await reader.ReadAsync(cancellation).ConfigureAwait(false);
            var buffer = read.Buffer;
            if (buffer.Length > max)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                return null;
            }
            if (read.IsCompleted)
            {
                var array = ArrayPool<byte>.Shared.Rent((int)Math.Max(1, buffer.Length));
                buffer.CopyTo(array);
                var length = (int)buffer.Length;
                reader.AdvanceTo(buffer.End);
                return new PooledBytes(array, length);
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private readonly record struct PooledBytes(byte[] Array, int Length)
    {
        public ReadOnlySpan<byte> Span => Array.AsSpan(0, Length);
    }
}
