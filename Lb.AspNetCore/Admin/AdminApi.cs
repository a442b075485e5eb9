using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Lb.AspNetCore.Runtime;
using Lb.Core.Admin;
using Lb.Core.Cluster;
using Lb.Core.Json;
using Lb.Core.Options;
using Lb.Core.Spec;
using Lb.Core.Store;
using Lb.Core.Validation;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Lb.AspNetCore.Admin;

/// <summary>
/// The admin JSON API of seed contract §6 on exact paths, plus Lb's additions (<c>POST /api/config/validate</c>,
/// <c>GET /api/explain</c>, ETag/If-Match, bearer token). Endpoints come in feature groups: config, status, runtime and
/// metrics here, others from <see cref="IAdminEndpointContributor"/>s (cluster lifecycle from Lb.Raft). One dispatcher
/// keeps the contract's exact status codes and bodies for unknown paths (404 text) and wrong methods (405 JSON).
/// </summary>
internal sealed class AdminApi
{
    private static readonly HashSet<string> LegacyPaths = new(StringComparer.Ordinal)
    {
        "/api/namespaces", "/api/namespaces/default", "/api/namespaces/default/config", "/api/namespaces/default/routes",
        "/api/namespaces/default/upstream-pools", "/api/runtime/config", "/api/app-config", "/api/proxy-configs",
        "/api/runtime/routes", "/api/upstreams", "/api/raft/join",
    };

    private static readonly TimeSpan ApplyWait = TimeSpan.FromSeconds(10);

    private readonly IDesiredStateStore store;
    private readonly RuntimeManager runtime;
    private readonly DesiredStateLimits limits;
    private readonly IDesiredStateValidator validator;
    private readonly Diagnostics.PrometheusExporter metrics;
    private readonly IClusterStatusView _cluster;
    private readonly IVipStatusView _vip;
    private readonly LbNodeOptions _node;
    private readonly AdminOptions _admin;
    private readonly byte[]? _token;
    private readonly AdminRouteTable _routes;
    private readonly Listeners.LoadBalancerListeners _listeners;
    private readonly L4.TcpListenerManager? _tcpListeners;

    public AdminApi(
        IDesiredStateStore store,
        RuntimeManager runtime,
        IOptions<LbNodeOptions> nodeOptions,
        IOptions<AdminOptions> adminOptions,
        DesiredStateLimits limits,
        IDesiredStateValidator validator,
        Diagnostics.PrometheusExporter metrics,
        IClusterStatusView cluster,
        IVipStatusView vip,
        IEnumerable<IAdminEndpointContributor> contributors,
        Listeners.LoadBalancerListeners listeners,
        L4.TcpListenerManager? tcpListeners = null)
    {
        _listeners = listeners;
        _tcpListeners = tcpListeners;
        this.store = store;
        this.runtime = runtime;
        this.limits = limits;
        this.validator = validator;
        this.metrics = metrics;
        _cluster = cluster;
        _vip = vip;
        _node = nodeOptions.Value;
        _admin = adminOptions.Value;
        _token = _admin.AdminToken.Length > 0 ? Encoding.UTF8.GetBytes(_admin.AdminToken) : null;

        var routes = new AdminRouteTable();
        // Config: the editable desired state.
        routes.Add("GET", "/api/config", AdminAccess.Read, GetConfigAsync);
        routes.Add("PUT", "/api/config", AdminAccess.Write, PutConfigAsync);
        routes.Add("POST", "/api/config/validate", AdminAccess.Write, ValidateAsync);
        // Status: node, cluster and VIP views.
        routes.Add("GET", "/api/status", AdminAccess.Read, GetStatusAsync);
        routes.Add("GET", "/api/cluster", AdminAccess.Read, GetClusterAsync);
        routes.Add("GET", "/api/node/cluster-status", AdminAccess.Read, GetNodeClusterStatusAsync);
        // Runtime: the compiled snapshot.
        routes.Add("GET", "/api/runtime", AdminAccess.Read, GetRuntimeAsync);
        routes.Add("GET", "/api/explain", AdminAccess.Read, ExplainAsync);
        routes.Add("GET", "/metrics", AdminAccess.Read, MetricsAsync);
        routes.AddContributed(contributors, ReadJsonBodyAsync);
        _routes = routes;
    }

    public async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        var method = context.Request.Method;

        if (LegacyPaths.Contains(path) || path.StartsWith("/api/namespaces/default/routes/", StringComparison.Ordinal) || path.StartsWith("/api/namespaces/default/upstream-pools/", StringComparison.Ordinal))
        {
            await AdminResponses.PlainAsync(context, 404, "404 page not found");
            return;
        }

        if (TargetStateApi.Matches(path))
        {
            // The one parameterised path: the pool and the address are part of it.
            if (!Authorized(context, isRead: false))
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
                await AdminResponses.ErrorAsync(context, 401, "missing or wrong admin token", "unauthorized",
                    [new ApiFieldError("Authorization", "send the header 'Authorization: Bearer <adminToken>' with the token from this node's app.json")]);
                return;
            }
            await TargetStateApi.HandleAsync(context, store, ReadJsonBodyAsync, WaitUntilServedAsync);
            return;
        }

        if (ConfigItemApi.Matches(path))
        {
            // One route or pool by id: the id is part of the path.
            if (!Authorized(context, ConfigItemApi.IsRead(context)))
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
                await AdminResponses.ErrorAsync(context, 401, "missing or wrong admin token", "unauthorized",
                    [new ApiFieldError("Authorization", "send the header 'Authorization: Bearer <adminToken>' with the token from this node's app.json")]);
                return;
            }
            await ConfigItemApi.HandleAsync(context, store, ReadJsonBodyAsync, WaitUntilServedAsync);
            return;
        }

        var route = _routes.Find(method, path, out var pathKnown);
        if (route is null)
        {
            if (pathKnown && path != "/metrics")
            {
                await AdminResponses.ErrorAsync(context, 405, "method not allowed");
            }
            else
            {
                await AdminResponses.PlainAsync(context, 404, "404 page not found");
            }
            return;
        }

        if (!Authorized(context, route.Access == AdminAccess.Read))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await AdminResponses.ErrorAsync(context, 401, "missing or wrong admin token", "unauthorized",
                [new ApiFieldError("Authorization", "send the header 'Authorization: Bearer <adminToken>' with the token from this node's app.json")]);
            return;
        }
        await route.Handler(context);
    }

    internal bool Authorized(HttpContext context, bool isRead)
    {
        if (_token is null || (isRead && !_admin.AdminReadRequiresToken))
        {
            return true;
        }
        var header = context.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var presented = Encoding.UTF8.GetBytes(header[scheme.Length..].Trim());
        return CryptographicOperations.FixedTimeEquals(presented, _token);
    }

    private async Task GetConfigAsync(HttpContext context)
    {
        var current = store.Current;
        context.Response.Headers.ETag = current.ETag;
        await AdminResponses.WriteRawJsonAsync(context, 200, DesiredStateJson.SerializeConfigDocument(current.State.Config, current.Version, current.AppliedAt));
    }

    private async Task PutConfigAsync(HttpContext context)
    {
        var document = await ReadConfigDocumentAsync(context);
        if (document is null)
        {
            return;
        }

        // If-Match and a body version are two ways to say which version the edit was based on. Only the store decides
        // whether it still is (a local copy may lag behind a replicated store); WriteOutcome maps its answer.
        long? expected = document.Version;
        var precondition = WritePrecondition.BodyVersion;
        var ifMatch = context.Request.Headers.IfMatch.ToString();
        if (ifMatch.Length > 0 && ifMatch != "*")
        {
            if (!long.TryParse(ifMatch.Trim().Trim('"').TrimStart('W', '/').Trim('"'), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var fromHeader))
            {
                await AdminResponses.ErrorAsync(context, 400, "If-Match must be the ETag returned by GET /api/config, e.g. \"7\"", "invalid_request");
                return;
            }
            expected = fromHeader;
            precondition = WritePrecondition.IfMatch;
        }

        // The store validates before it writes anything (and a replicated store before it proposes), so an invalid
        // document comes back as StoreWriteStatus.Invalid below; validating here as well would only do it twice.
        var desired = store.Current.State with { Config = document.Config };
        var result = await store.PutAsync(desired, expected, ConfigHistoryApi.OriginOf(context, null), context.RequestAborted);
        if (result.Status == StoreWriteStatus.Applied)
        {
            await WaitUntilServedAsync(result.Current.Version, context.RequestAborted);
            context.Response.Headers.ETag = result.Current.ETag;
            await AdminResponses.WriteRawJsonAsync(context, 200, DesiredStateJson.SerializeConfigDocument(result.Current.State.Config, result.Current.Version, result.Current.AppliedAt));
            return;
        }
        await WriteOutcome.FailureAsync(context, result, expected, precondition);
    }

    /// <summary>
    /// Read-your-writes: the runtime watcher applies every stored version on its own; the answer waits until this
    /// node serves the new version (or its build failed, which /api/status shows), so the client's next request
    /// sees it. The write is durable either way, so a slow build delays the answer at most <see cref="ApplyWait"/>.
    /// </summary>
    private async Task WaitUntilServedAsync(long version, CancellationToken aborted)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        bounded.CancelAfter(ApplyWait);
        try
        {
            await runtime.WaitForAppliedAsync(version, bounded.Token);
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
        }
    }

    private async Task ValidateAsync(HttpContext context)
    {
        var document = await ReadConfigDocumentAsync(context);
        if (document is null)
        {
            return;
        }
        // The same validation a write gets, against the cluster policies in force.
        var candidate = new VersionedDesiredState(0, DesiredStateJson.Normalize(store.Current.State with { Config = document.Config }), default);
        var validation = validator.Validate(candidate.State);
        var view = new ValidateView(validation.IsValid, ToApi(validation), validation.IsValid ? candidate.ContentHash : null);
        await AdminResponses.WriteJsonAsync(context, validation.IsValid ? 200 : 422, view, AdminJsonContext.Relaxed.ValidateView);
    }

    /// <summary>Reads and parses a config body; on failure it has already answered and returns null.</summary>
    private async Task<ConfigDocument?> ReadConfigDocumentAsync(HttpContext context)
    {
        var body = await ReadJsonBodyAsync(context);
        if (body is null)
        {
            return null;
        }
        var parsed = DesiredStateJson.ParseConfigDocument(body.WrittenSpan);
        if (!parsed.Succeeded)
        {
            await AdminResponses.ErrorAsync(context, 400, parsed.Message!, null, [new ApiFieldError(parsed.Field, parsed.Detail!)]);
            return null;
        }
        return parsed.Value;
    }

    /// <summary>Reads a JSON body within the size limit; on failure it has already answered and returns null.</summary>
    private async Task<ArrayBufferWriter<byte>?> ReadJsonBodyAsync(HttpContext context)
    {
        var contentType = context.Request.ContentType;
        if (!string.IsNullOrEmpty(contentType) && !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) && !contentType.Contains("+json", StringComparison.OrdinalIgnoreCase))
        {
            await AdminResponses.ErrorAsync(context, 415, "request body must be JSON", "unsupported_media_type",
                [new ApiFieldError("Content-Type", $"'{contentType}' is not JSON; send 'Content-Type: application/json'")]);
            return null;
        }
        if (context.Request.ContentLength > limits.MaxDocumentBytes)
        {
            await TooLargeAsync(context);
            return null;
        }

        var buffer = new ArrayBufferWriter<byte>(4096);
        var body = context.Request.Body;
        while (true)
        {
            var memory = buffer.GetMemory(16 * 1024);
            var read = await body.ReadAsync(memory, context.RequestAborted);
            if (read == 0)
            {
                break;
            }
            buffer.Advance(read);
            if (buffer.WrittenCount > limits.MaxDocumentBytes)
            {
                await TooLargeAsync(context);
                return null;
            }
        }
        return buffer;
    }

    private Task TooLargeAsync(HttpContext context) =>
        AdminResponses.ErrorAsync(context, 413, $"request body is larger than {limits.MaxDocumentBytes} bytes", "payload_too_large");

    private static List<ApiFieldError> ToApi(ValidationResult validation) =>
        validation.Errors.Select(e => new ApiFieldError(e.Field, e.Message, e.Code, e.Hint)).ToList();

    private async Task GetStatusAsync(HttpContext context)
    {
        var snapshot = runtime.Current;
        var counts = snapshot.CountTargets();
        var cluster = await _cluster.GetClusterStatusAsync(context.RequestAborted);
        var bound = _listeners.Current();
        var view = new StatusView(
            new StatusNode
            {
                Id = _node.NodeId.Length > 0 ? _node.NodeId : null,
                ProxyListenAddr = Listeners.LoadBalancerListeners.Describe(_node.ProxyListenAddr, bound.Proxy),
                DashboardListenAddr = Listeners.LoadBalancerListeners.Describe(_node.DashboardListenAddr, bound.Admin),
                Listeners = bound.Proxy.Count + bound.Admin.Count > 0 ? new StatusListeners(bound.Proxy, bound.Admin) : null,
                AppliedAt = Rfc3339.Format(snapshot.AppliedAt),
                Projection = StatusProjection.Of(runtime),
                Version = snapshot.Version,
                ContentHash = snapshot.ContentHash,
                Store = cluster.Store,
            },
            ClusterViews.Raft(cluster),
            ClusterViews.Vip(_vip.Current),
            new StatusRuntime(snapshot.Routes.Routes.Count, snapshot.Config.UpstreamPools.Count, counts.Total, counts.Healthy, counts.Total - counts.Healthy));
        await AdminResponses.WriteJsonAsync(context, 200, view, AdminJsonContext.Relaxed.StatusView);
    }

    private Task MetricsAsync(HttpContext context)
    {
        context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        return context.Response.WriteAsync(metrics.Render(), context.RequestAborted);
    }

    private async Task GetClusterAsync(HttpContext context)
    {
        var cluster = await _cluster.GetClusterStatusAsync(context.RequestAborted);
        var vip = _vip.Current;
        var view = ClusterViews.Cluster(cluster) with { Vip = vip.Enabled ? ClusterViews.Vip(vip) : null };
        await AdminResponses.WriteJsonAsync(context, 200, view, AdminJsonContext.Relaxed.ClusterView);
    }

    private async Task GetNodeClusterStatusAsync(HttpContext context)
    {
        var node = await _cluster.GetNodeStatusAsync(context.RequestAborted);
        await AdminResponses.WriteJsonAsync(context, 200, ClusterViews.Node(node), AdminJsonContext.Relaxed.NodeClusterStatusView);
    }

    private Task GetRuntimeAsync(HttpContext context) =>
        AdminResponses.WriteJsonAsync(context, 200, RuntimeViews.Build(runtime.Current, _tcpListeners?.States), AdminJsonContext.Relaxed.RuntimeView);

    private async Task ExplainAsync(HttpContext context)
    {
        var host = context.Request.Query["host"].ToString();
        var path = context.Request.Query["path"].ToString();
        if (host.Length == 0)
        {
            await AdminResponses.ErrorAsync(context, 400, "host is required", "invalid_request",
                [new ApiFieldError("host", "pass the request's Host, e.g. /api/explain?host=shop.example.com&path=/api/cart")]);
            return;
        }
        await AdminResponses.WriteJsonAsync(context, 200, RuntimeViews.Explain(runtime.Current, host, path.Length == 0 ? "/" : path), AdminJsonContext.Relaxed.ExplainView);
    }
}
