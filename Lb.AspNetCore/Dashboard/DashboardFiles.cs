using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;

namespace Lb.AspNetCore.Dashboard;

/// <summary>
/// Serves the dashboard: plain HTML, JS and CSS embedded in the assembly (no build step, nothing on disk).
/// <c>/assets/&lt;file&gt;</c> are the assets; every other GET/HEAD gets the page (contract §6.1: non-API paths
/// answer the single-page app), other methods 405. Files carry an ETag and a strict Content-Security-Policy.
/// </summary>
internal sealed class DashboardFiles
{
    private const string AssetPrefix = "/assets/";
    private const string ResourcePrefix = "Lb.Dashboard.";

    // Everything comes from this origin; no inline script or style, no framing.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private readonly FrozenDictionary<string, Asset> _assets;
    private readonly Asset _page;

    public DashboardFiles()
    {
        var assembly = typeof(DashboardFiles).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                continue;
            }
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            var file = name[ResourcePrefix.Length..];
            assets[file] = new Asset(bytes, ContentTypeOf(file), $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))[..16]}\"");
        }
        _assets = assets.ToFrozenDictionary(StringComparer.Ordinal);
        _page = _assets.TryGetValue("index.html", out var page)
            ? page
            : throw new InvalidOperationException("The dashboard page is missing from Lb.AspNetCore's resources.");
    }

    public Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            response.ContentType = "text/plain; charset=utf-8";
            return response.WriteAsync("method not allowed\n");
        }
        var path = request.Path.Value ?? "/";
        Asset asset;
        if (path.StartsWith(AssetPrefix, StringComparison.Ordinal))
        {
            if (!_assets.TryGetValue(path[AssetPrefix.Length..], out asset!) || asset == _page)
            {
                response.StatusCode = StatusCodes.Status404NotFound;
                response.ContentType = "text/plain; charset=utf-8";
                return response.WriteAsync("404 page not found\n");
            }
        }
        else
        {
            asset = _page;
        }

        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        // Revalidate every time: the files change with the assembly, and the ETag makes that a cheap 304.
        response.Headers.CacheControl = "no-cache";
        response.Headers.ETag = asset.ETag;
        if (request.Headers.IfNoneMatch.ToString() == asset.ETag)
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }
        response.ContentType = asset.ContentType;
        response.ContentLength = asset.Bytes.Length;
        return HttpMethods.IsHead(request.Method) ? Task.CompletedTask : response.Body.WriteAsync(asset.Bytes, context.RequestAborted).AsTask();
    }

    private static string ContentTypeOf(string file) => Path.GetExtension(file) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };

    private sealed record Asset(byte[] Bytes, string ContentType, string ETag);
}
