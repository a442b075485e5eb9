using System.Buffers;
using System.Text.Json;
using Lb.Core.Json;
using Lb.Core.Spec;
using Lb.Core.Store;
using Microsoft.AspNetCore.Http;

namespace Lb.AspNetCore.Admin;

/// <summary>
/// <c>GET/PUT/DELETE /api/routes/{id}</c> and <c>/api/pools/{id}</c>: one route or pool at a time. A write is a
/// <see cref="ConfigChange"/> of that one item, which a replicated store logs as such, so every node parses, validates
/// and rebuilds only that item however large the configuration is. <c>If-Match</c> (the ETag of <c>GET /api/config</c>)
/// makes it a compare-and-set on the version; without it the change applies to whatever version is current. PUT of a
/// new id adds the route at the end (a pool by its id); PUT of an existing id replaces it in place.
/// </summary>
internal static class ConfigItemApi
{
    public const string RoutesPrefix = "/api/routes/";
    public const string PoolsPrefix = "/api/pools/";

    public static bool Matches(string path) =>
        (path.StartsWith(RoutesPrefix, StringComparison.Ordinal) && path.Length > RoutesPrefix.Length)
        || (path.StartsWith(PoolsPrefix, StringComparison.Ordinal) && path.Length > PoolsPrefix.Length);

    public static bool IsRead(HttpContext context) => HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method);

    public static async Task HandleAsync(HttpContext context, IDesiredStateStore store, Func<HttpContext, Task<ArrayBufferWriter<byte>?>> readBody, Func<long, CancellationToken, Task> waitServed)
    {
        var path = context.Request.Path.Value!;
        var isRoute = path.StartsWith(RoutesPrefix, StringComparison.Ordinal);
        var id = path[(isRoute ? RoutesPrefix : PoolsPrefix).Length..];
        var kind = isRoute ? "route" : "upstream pool";
        var method = context.Request.Method;
        if (!IsRead(context) && !HttpMethods.IsPut(method) && !HttpMethods.IsDelete(method))
        {
            await AdminResponses.ErrorAsync(context, 405, "method not allowed");
            return;
        }

        long? expected = null;
        var ifMatch = context.Request.Headers.IfMatch.ToString();
        if (ifMatch.Length > 0 && ifMatch != "*")
        {
            if (!long.TryParse(ifMatch.Trim().TrimStart('W', '/').Trim('"'), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var fromHeader))
            {
                await AdminResponses.ErrorAsync(context, 400, "If-Match must be the ETag returned by GET /api/config, e.g. \"7\"", "invalid_request");
                return;
            }
            expected = fromHeader;
        }

        var current = store.Current;
        var exists = isRoute ? current.State.Config.Routes.Any(r => r.Id == id) : current.State.Config.UpstreamPools.ContainsKey(id);
        if (IsRead(context) || HttpMethods.IsDelete(method))
        {
            if (!exists)
            {
                await AdminResponses.ErrorAsync(context, 404, $"{kind} '{id}' not found", "not_found",
                    [new ApiFieldError("id", $"use an id listed by GET /api/config ({(isRoute ? "routes[].id" : "keys of upstream_pools")})")]);
                return;
            }
            if (IsRead(context))
            {
                context.Response.Headers.ETag = current.ETag;
                await AdminResponses.WriteRawJsonAsync(context, 200, isRoute
                    ? DesiredStateJson.SerializeRoute(current.State.Config.Routes.First(r => r.Id == id))
                    : DesiredStateJson.SerializePool(current.State.Config.UpstreamPools[id]));
                return;
            }
        }

        ConfigChange change;
        if (HttpMethods.IsDelete(method))
        {
            change = isRoute ? new ConfigChange { RemoveRoutes = [id] } : new ConfigChange { RemovePools = [id] };
        }
        else
        {
            var body = await readBody(context);
            if (body is null)
            {
                return;
            }
            if (isRoute)
            {
                var parsed = DesiredStateJson.ParseRoute(body.WrittenSpan);
                if (!parsed.Succeeded)
                {
                    await AdminResponses.ErrorAsync(context, 400, parsed.Message!, null, [new ApiFieldError(parsed.Field, parsed.Detail!)]);
                    return;
                }
                var route = parsed.Value!;
                if (route.Id.Length > 0 && route.Id != id)
                {
                    await AdminResponses.ErrorAsync(context, 400, "the body's id differs from the id in the path", "invalid_request",
                        [new ApiFieldError("id", $"omit id or send \"{id}\"; to rename a route, DELETE it and PUT the new id")]);
                    return;
                }
                change = new ConfigChange { UpsertRoutes = [route with { Id = id }] };
            }
            else
            {
                var parsed = DesiredStateJson.ParsePool(body.WrittenSpan);
                if (!parsed.Succeeded)
                {
                    await AdminResponses.ErrorAsync(context, 400, parsed.Message!, null, [new ApiFieldError(parsed.Field, parsed.Detail!)]);
                    return;
                }
                change = new ConfigChange { UpsertPools = new Dictionary<string, UpstreamPoolSpec>(StringComparer.Ordinal) { [id] = parsed.Value! } };
            }
        }

        var action = $"{(HttpMethods.IsDelete(method) ? "delete" : exists ? "replace" : "add")} {(isRoute ? "route" : "pool")} {id}";
        var result = await store.ApplyChangeAsync(change, expected, ConfigHistoryApi.OriginOf(context, action), context.RequestAborted);
        if (result.Status != StoreWriteStatus.Applied)
        {
            await WriteOutcome.FailureAsync(context, result, expected, WritePrecondition.IfMatch);
            return;
        }
        await waitServed(result.Current.Version, context.RequestAborted);
        context.Response.Headers.ETag = result.Current.ETag;
        await AdminResponses.WriteRawJsonAsync(context, 200, Answer(result.Current, isRoute, id));
    }

    /// <summary><c>{"version": N, "applied_at": "...", "route"|"pool": {...}}</c>; the item is absent after a DELETE.</summary>
    private static byte[] Answer(VersionedDesiredState state, bool isRoute, string id)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("version", state.Version);
            json.WriteString("applied_at", Rfc3339.Format(state.AppliedAt));
            var config = state.State.Config;
            if (isRoute && config.Routes.FirstOrDefault(r => r.Id == id) is { } route)
            {
                json.WritePropertyName("route");
                json.WriteRawValue(DesiredStateJson.SerializeRoute(route), skipInputValidation: true);
            }
            else if (!isRoute && config.UpstreamPools.TryGetValue(id, out var pool))
            {
                json.WritePropertyName("pool");
                json.WriteRawValue(DesiredStateJson.SerializePool(pool), skipInputValidation: true);
            }
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
