using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Herald.Core;
using Herald.Core.Routing;
using Herald.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Herald.Server.Api;

/// <summary>
/// The HTTP API: <c>POST /api/&lt;method&gt;</c> with a JSON body, JSON replies, errors as
/// <c>{"error":{"code":N,"message":"..."}}</c>. Methods: <c>publish</c>, <c>info</c>.
/// </summary>
internal sealed class HttpApi(Node node, ApiKeyCheck keys, ILogger<HttpApi> logger)
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
        if (method is not ("publish" or "info"))
        {
            await RefuseAsync(context, method, StatusCodes.Status404NotFound, ErrorCodes.UnknownMethod,
                $"unknown API method \"{method}\"; methods are: publish, info").ConfigureAwait(false);
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
            await (method == "info" ? InfoAsync(context) : PublishAsync(context, body.Value.Span)).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body.Value.Array);
        }
    }

    private Task PublishAsync(HttpContext context, ReadOnlySpan<byte> body)
    {
        if (!PublishRequestParser.TryParse(body, out var request, out var code, out var error))
        {
            return RefuseAsync(context, "publish", StatusCodes.Status400BadRequest, code, error);
        }
        var result = node.Publish(request);
        if (!result.Succeeded)
        {
            return RefuseAsync(context, "publish", StatusCodes.Status400BadRequest, result.ErrorCode, result.Error);
        }
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new PublishReply(result.Recipients), ApiJsonContext.Relaxed.PublishReply));
    }

    private Task InfoAsync(HttpContext context)
    {
        var counters = node.Counters;
        var reply = new InfoReply(node.Id, ServerInfo.Version, (long)(DateTimeOffset.UtcNow - node.StartedAt).TotalSeconds,
            node.ConnectionCount, node.UserCount, node.ChannelCount, counters.Publishes, counters.Deliveries, counters.SlowConsumers);
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(reply, ApiJsonContext.Relaxed.InfoReply));
    }

    private Task RefuseAsync(HttpContext context, string method, int status, int code, string message)
    {
        ServerLog.ApiRefused(logger, method, context.Connection.RemoteIpAddress?.ToString() ?? "unknown", status, message);
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
