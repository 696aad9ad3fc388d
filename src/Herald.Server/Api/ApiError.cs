using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Herald.Server.Api;

/// <summary>Writes the HTTP API's error body: <c>{"error":{"code":N,"message":"..."}}</c>.</summary>
internal static class ApiError
{
    public static Task WriteAsync(HttpContext context, int status, int code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new ErrorBody(new ErrorDetail(code, message)), ApiJsonContext.Relaxed.ErrorBody));
    }
}

internal sealed record ErrorBody(ErrorDetail Error);

internal sealed record ErrorDetail(int Code, string Message);
