using System.Buffers;
using Lb.Core.Admin;
using Microsoft.AspNetCore.Http;

namespace Lb.AspNetCore.Admin;

/// <summary>
/// The admin API's exact-path routes: the built-in groups plus every contributed feature group (a default group gives
/// way to another contributor of the same feature). HEAD is served by the GET route.
/// </summary>
internal sealed class AdminRouteTable
{
    private readonly Dictionary<(string Method, string Path), AdminRoute> _routes = [];
    private readonly HashSet<string> _paths = new(StringComparer.Ordinal);

    public void Add(string method, string path, AdminAccess access, Func<HttpContext, Task> handler)
    {
        if (!_routes.TryAdd((method, path), new AdminRoute(access, handler)))
        {
            throw new InvalidOperationException($"Two admin endpoints claim {method} {path}; remove one of the contributors.");
        }
        _paths.Add(path);
    }

    public void AddContributed(IEnumerable<IAdminEndpointContributor> contributors, Func<HttpContext, Task<ArrayBufferWriter<byte>?>> readBody)
    {
        foreach (var group in contributors.GroupBy(c => c.Feature, StringComparer.Ordinal))
        {
            // The last non-default contributor of a feature wins, as the last registration does in DI.
            var chosen = group.LastOrDefault(c => !c.IsDefault) ?? group.Last();
            foreach (var endpoint in chosen.GetEndpoints())
            {
                Add(endpoint.Method.ToUpperInvariant(), endpoint.Path, endpoint.Access, context => ContributedAsync(context, endpoint, readBody));
            }
        }
    }

    public AdminRoute? Find(string method, string path, out bool pathKnown)
    {
        pathKnown = _paths.Contains(path);
        if (!pathKnown)
        {
            return null;
        }
        var key = HttpMethods.IsHead(method) ? HttpMethods.Get : method;
        return _routes.GetValueOrDefault((key, path));
    }

    private static async Task ContributedAsync(HttpContext context, AdminEndpoint endpoint, Func<HttpContext, Task<ArrayBufferWriter<byte>?>> readBody)
    {
        ReadOnlyMemory<byte> body = default;
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            var read = await readBody(context);
            if (read is null)
            {
                return;
            }
            body = read.WrittenMemory;
        }
        var request = new AdminRequest
        {
            Method = context.Request.Method,
            Path = endpoint.Path,
            Body = body,
            Query = context.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.Ordinal),
            Headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
        };
        var result = await endpoint.Handler(request, context.RequestAborted);
        await AdminResponses.WriteResultAsync(context, result);
    }
}

/// <summary>One admin route.</summary>
internal sealed record AdminRoute(AdminAccess Access, Func<HttpContext, Task> Handler);
