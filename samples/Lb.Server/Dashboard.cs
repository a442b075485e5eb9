namespace Lb.Server;

/// <summary>
/// Non-API paths on the admin listener. The single-page dashboard comes with its own issue; until then GET/HEAD
/// get a small page that points at the API, and other methods get 405 as the contract says.
/// </summary>
internal static class Dashboard
{
    private const string Page = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Lb admin</title></head>
        <body><h1>Lb admin</h1>
        <p>The web dashboard is not part of this build yet. The admin API is: <a href="/api/status">/api/status</a>,
        <a href="/api/config">/api/config</a>, <a href="/api/runtime">/api/runtime</a>, <a href="/metrics">/metrics</a>.</p>
        </body></html>
        """;

    public static Task HandleAsync(HttpContext context)
    {
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            context.Response.ContentType = "text/plain; charset=utf-8";
            return context.Response.WriteAsync("method not allowed\n");
        }
        context.Response.ContentType = "text/html; charset=utf-8";
        return context.Response.WriteAsync(Page);
    }
}
