using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Lb.AspNetCore.Runtime;
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
/// <c>GET /api/explain</c>, ETag/If-Match, bearer token). One dispatcher keeps the contract's exact status codes
/// and bodies for unknown paths (404 text) and wrong methods (405 JSON).
/// </summary>
internal sealed class AdminApi(
    IDesiredStateStore store,
    RuntimeManager runtime,
    IOptions<LbNodeOptions> nodeOptions,
    DesiredStateLimits limits,
    IAlgorithmRules algorithms,
    Diagnostics.PrometheusExporter metrics)
{
    private static readonly HashSet<string> LegacyPaths = new(StringComparer.Ordinal)
    {
        "/api/namespaces", "/api/namespaces/default", "/api/namespaces/default/config", "/api/namespaces/default/routes",
        "/api/namespaces/default/upstream-pools", "/api/runtime/config", "/api/app-config", "/api/proxy-configs",
        "/api/runtime/routes", "/api/upstreams", "/api/raft/join",
    };

    private static readonly TimeSpan ApplyWait = TimeSpan.FromSeconds(10);

    private readonly LbNodeOptions _node = nodeOptions.Value;
    private readonly byte[]? _token = nodeOptions.Value.AdminToken.Length > 0 ? Encoding.UTF8.GetBytes(nodeOptions.Value.AdminToken) : null;

    public async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        var method = context.Request.Method;
        var isRead = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);

        if (LegacyPaths.Contains(path) || path.StartsWith("/api/namespaces/default/routes/", StringComparison.Ordinal) || path.StartsWith("/api/namespaces/default/upstream-pools/", StringComparison.Ordinal))
        {
            await AdminResponses.PlainAsync(context, 404, "404 page not found");
            return;
        }

        Func<HttpContext, Task>? handler = (path, isRead, method) switch
        {
            ("/api/config", true, _) => GetConfigAsync,
            ("/api/config", false, "PUT") => PutConfigAsync,
            ("/api/config/validate", false, "POST") => ValidateAsync,
            ("/api/status", true, _) => GetStatusAsync,
            ("/api/cluster", true, _) => GetClusterAsync,
            ("/api/runtime", true, _) => GetRuntimeAsync,
            ("/api/explain", true, _) => ExplainAsync,
            ("/api/node/cluster-status", true, _) => GetNodeClusterStatusAsync,
            ("/metrics", true, _) => MetricsAsync,
            ("/api/cluster/bootstrap", false, "POST") or ("/api/node/join-cluster", false, "POST") or ("/api/cluster/join", false, "POST") => ClusterNotAvailableAsync,
            _ => null,
        };
        if (handler is null)
        {
            var known = path is "/api/config" or "/api/config/validate" or "/api/status" or "/api/cluster" or "/api/runtime" or "/api/explain"
                or "/api/node/cluster-status" or "/api/cluster/bootstrap" or "/api/node/join-cluster" or "/api/cluster/join";
            if (known)
            {
                await AdminResponses.ErrorAsync(context, 405, "method not allowed");
            }
            else
            {
                await AdminResponses.PlainAsync(context, 404, "404 page not found");
            }
            return;
        }

        if (!Authorized(context, isRead))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await AdminResponses.ErrorAsync(context, 401, "missing or wrong admin token", "unauthorized",
                [new ApiFieldError("Authorization", "send the header 'Authorization: Bearer <adminToken>' with the token from this node's app.json")]);
            return;
        }
        await handler(context);
    }

    private bool Authorized(HttpContext context, bool isRead)
    {
        if (_token is null || (isRead && !_node.AdminReadRequiresToken))
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

        // If-Match and a body version are two ways to say which version the edit was based on.
        long? expected = document.Version;
        var ifMatch = context.Request.Headers.IfMatch.ToString();
        if (ifMatch.Length > 0 && ifMatch != "*")
        {
            if (!long.TryParse(ifMatch.Trim().Trim('"').TrimStart('W', '/').Trim('"'), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var fromHeader))
            {
                await AdminResponses.ErrorAsync(context, 400, "If-Match must be the ETag returned by GET /api/config, e.g. \"7\"", "invalid_request");
                return;
            }
            if (store.Current.Version != fromHeader)
            {
                context.Response.Headers.ETag = store.Current.ETag;
                await AdminResponses.ErrorAsync(context, 412, $"configuration changed since version {fromHeader} (now {store.Current.Version}); GET it again and reapply your edit", "version_conflict");
                return;
            }
            expected = fromHeader;
        }

        // The store validates before it writes anything (and a replicated store before it proposes), so an invalid
        // document comes back as StoreWriteStatus.Invalid below; validating here as well would only do it twice.
        var desired = store.Current.State with { Config = document.Config };
        var result = await store.PutAsync(desired, expected, context.RequestAborted);
        switch (result.Status)
        {
            case StoreWriteStatus.Applied:
                await WaitUntilServedAsync(result.Current.Version, context.RequestAborted);
                context.Response.Headers.ETag = result.Current.ETag;
                await AdminResponses.WriteRawJsonAsync(context, 200, DesiredStateJson.SerializeConfigDocument(result.Current.State.Config, result.Current.Version, result.Current.AppliedAt));
                break;
            case StoreWriteStatus.VersionConflict:
                context.Response.Headers.ETag = result.Current.ETag;
                await AdminResponses.ErrorAsync(context, 409, $"configuration changed since version {expected} (now {result.Current.Version}); GET it again and reapply your edit", "version_conflict");
                break;
            case StoreWriteStatus.Invalid:
                await AdminResponses.ErrorAsync(context, 422, "validation failed", "validation_failed", ToApi(result.Validation!));
                break;
            case StoreWriteStatus.NotLeader:
                await AdminResponses.ErrorAsync(context, 409, "configuration writes must be sent to the raft leader", "not_raft_leader", leaderAddress: result.LeaderAddress);
                break;
            default:
                await AdminResponses.ErrorAsync(context, 503, "the configuration store is unavailable; the write was not applied", "store_unavailable",
                    [new ApiFieldError("", result.Message ?? "store unavailable")]);
                break;
        }
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
        var validation = DesiredStateValidator.Validate(document.Config, limits, algorithms);
        var view = new ValidateView(validation.IsValid, ToApi(validation), validation.IsValid ? DesiredStateJson.ContentHash(document.Config) : null);
        await AdminResponses.WriteJsonAsync(context, validation.IsValid ? 200 : 422, view, AdminJsonContext.Relaxed.ValidateView);
    }

    /// <summary>Reads and parses a config body; on failure it has already answered and returns null.</summary>
    private async Task<ConfigDocument?> ReadConfigDocumentAsync(HttpContext context)
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

        var parsed = DesiredStateJson.ParseConfigDocument(buffer.WrittenSpan);
        if (!parsed.Succeeded)
        {
            await AdminResponses.ErrorAsync(context, 400, parsed.Message!, null, [new ApiFieldError(parsed.Field, parsed.Detail!)]);
            return null;
        }
        return parsed.Value;
    }

    private Task TooLargeAsync(HttpContext context) =>
        AdminResponses.ErrorAsync(context, 413, $"request body is larger than {limits.MaxDocumentBytes} bytes", "payload_too_large");

    private static List<ApiFieldError> ToApi(ValidationResult validation) =>
        validation.Errors.Select(e => new ApiFieldError(e.Field, e.Message, e.Code, e.Hint)).ToList();

    private Task GetStatusAsync(HttpContext context)
    {
        var snapshot = runtime.Current;
        var counts = snapshot.CountTargets();
        var view = new StatusView(
            new StatusNode
            {
                Id = _node.NodeId.Length > 0 ? _node.NodeId : null,
                ProxyListenAddr = _node.ProxyListenAddr,
                DashboardListenAddr = _node.DashboardListenAddr,
                AppliedAt = Rfc3339.Format(snapshot.AppliedAt),
                Projection = StatusProjection.Of(runtime),
                Version = snapshot.Version,
                ContentHash = snapshot.ContentHash,
                Store = store is FileDesiredStateStore ? "file" : store.GetType().Name,
            },
            StatusRaft.Disabled,
            VipStatus(),
            new StatusRuntime(snapshot.Routes.Routes.Count, snapshot.Config.UpstreamPools.Count, counts.Total, counts.Healthy, counts.Total - counts.Healthy));
        return AdminResponses.WriteJsonAsync(context, 200, view, AdminJsonContext.Relaxed.StatusView);
    }

    private StatusVip VipStatus() => new()
    {
        Enabled = store.Current.State.Vip is { Address.Length: > 0 },
        Interface = _node.VipInterface.Length > 0 ? _node.VipInterface : null,
        Address = store.Current.State.Vip?.Address is { Length: > 0 } a ? a : null,
    };

    private Task MetricsAsync(HttpContext context)
    {
        context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        return context.Response.WriteAsync(metrics.Render(), context.RequestAborted);
    }

    private Task GetClusterAsync(HttpContext context) =>
        AdminResponses.WriteJsonAsync(context, 200, new ClusterView { QuorumStatus = "disabled", Mode = "standalone" }, AdminJsonContext.Relaxed.ClusterView);

    private Task GetNodeClusterStatusAsync(HttpContext context) =>
        AdminResponses.WriteJsonAsync(context, 200, new NodeClusterStatusView
        {
            State = "unconfigured",
            NodeId = _node.NodeId.Length > 0 ? _node.NodeId : null,
            RaftAdvertiseAddr = _node.RaftAdvertiseAddr.Length > 0 ? _node.RaftAdvertiseAddr : null,
            RaftDataDir = _node.RaftDataDir,
            Mode = "standalone",
        }, AdminJsonContext.Relaxed.NodeClusterStatusView);

    private static Task ClusterNotAvailableAsync(HttpContext context) =>
        AdminResponses.ErrorAsync(context, 501, "this node runs standalone on the file store; clustering needs the Lb.Raft store (.AddRaftStore())", "raft_not_available");

    private Task GetRuntimeAsync(HttpContext context) =>
        AdminResponses.WriteJsonAsync(context, 200, RuntimeViews.Build(runtime.Current), AdminJsonContext.Relaxed.RuntimeView);

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
