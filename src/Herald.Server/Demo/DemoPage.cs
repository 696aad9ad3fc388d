using Microsoft.AspNetCore.Http;

namespace Herald.Server.Demo;

/// <summary>
/// GET /demo: a one-file page, served by Herald itself, with a plain WebSocket client of this server. A browser opens
/// ws:// from it as the same origin, which a page on about:blank or file:// may not do in current browsers.
/// </summary>
internal static class DemoPage
{
    private static readonly Lazy<byte[]> Html = new(() =>
    {
        using var stream = typeof(DemoPage).Assembly.GetManifestResourceStream("Herald.Server.Demo.demo.html")
            ?? throw new InvalidOperationException("The demo page is missing from the assembly's resources.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    /// <summary>Writes the page.</summary>
    public static Task WriteAsync(HttpContext context)
    {
        var response = context.Response;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers.XContentTypeOptions = "nosniff";
        return response.Body.WriteAsync(Html.Value, context.RequestAborted).AsTask();
    }
}
