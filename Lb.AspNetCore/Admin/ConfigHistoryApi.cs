using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Lb.AspNetCore.Diagnostics;
using Lb.AspNetCore.Runtime;
using Lb.Core.Json;
using Lb.Core.Store;
using Microsoft.AspNetCore.Http;

namespace Lb.AspNetCore.Admin;

/// <summary>
/// Lb's additions for the dashboard: configuration history and rollback (<c>GET /api/config/history</c>,
/// <c>GET /api/config/history/{version}</c>, <c>POST /api/config/rollback</c>) and per-route request counters
/// (<c>GET /api/stats/routes</c>). Same conventions as <see cref="AdminApi"/>: 405 JSON on a wrong method, the
/// admin token on writes (and reads when configured), error envelope with field paths.
/// </summary>
internal sealed class ConfigHistoryApi(IDesiredStateStore store, RuntimeManager runtime, AdminApi admin, PrometheusExporter metrics, TimeProvider time)
{
    public const string HistoryPath = "/api/config/history";
    public const string RollbackPath = "/api/config/rollback";
    public const string RouteStatsPath = "/api/stats/routes";

    private const int MaxOriginLength = 64;

    public async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        var method = context.Request.Method;
        var isRead = HttpMethods.IsGet(method) || HttpMethods.IsHead(method);
        Func<HttpContext, Task>? handler = (path, isRead, method) switch
        {
            (HistoryPath, true, _) => ListAsync,
            (RollbackPath, false, "POST") => RollbackAsync,
            (RouteStatsPath, true, _) => RouteStatsAsync,
            _ when isRead && path.StartsWith(HistoryPath + "/", StringComparison.Ordinal) => GetVersionAsync,
            _ => null,
        };
        if (handler is null)
        {
            await AdminResponses.ErrorAsync(context, 405, "method not allowed");
            return;
        }
        if (!admin.Authorized(context, isRead))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await AdminResponses.ErrorAsync(context, 401, "missing or wrong admin token", "unauthorized",
                [new ApiFieldError("Authorization", "send the header 'Authorization: Bearer <adminToken>' with the token from this node's app.json")]);
            return;
        }
        await handler(context);
    }

    /// <summary>
    /// Who wrote a version, for people reading the history: the client's own label (<c>X-Lb-Origin</c>, e.g.
    /// <c>dashboard</c>; <c>api</c> without one), an action such as a rollback, and the client address.
    /// </summary>
    public static string OriginOf(HttpContext context, string? action)
    {
        var label = context.Request.Headers["X-Lb-Origin"].ToString();
        label = label.Length == 0 ? "api" : new string(label.Where(c => char.IsAsciiLetterOrDigit(c) || c is ' ' or '-' or '_' or '.' or '/').Take(MaxOriginLength).ToArray());
        var what = action is null ? label : $"{action} ({label})";
        var from = context.Connection.RemoteIpAddress;
        return from is null ? what : $"{what} from {(from.IsIPv4MappedToIPv6 ? from.MapToIPv4() : from)}";
    }

    private IDesiredStateHistory? History => DesiredStateHistoryExtensions.HistoryOf(store);

    private Task NoHistoryAsync(HttpContext context) =>
        AdminResponses.ErrorAsync(context, 501, $"this node's store ({store.GetType().Name}) keeps no configuration history", "history_not_available");

    private async Task ListAsync(HttpContext context)
    {
        if (History is not { } history)
        {
            await NoHistoryAsync(context);
            return;
        }
        var current = store.Current.Version;
        var entries = history.GetHistory().Select(e => new HistoryEntryView(
            e.Version,
            Rfc3339.Format(e.AppliedAt),
            e.Origin,
            e.ContentHash,
            e.RouteCount,
            e.PoolCount,
            e.Version == current)).ToList();
        await AdminResponses.WriteJsonAsync(context, 200, new HistoryView(history.HistoryLimit, current, entries), DashboardJsonContext.Relaxed.HistoryView);
    }

    private async Task GetVersionAsync(HttpContext context)
    {
        if (History is not { } history)
        {
            await NoHistoryAsync(context);
            return;
        }
        var text = (context.Request.Path.Value ?? "")[(HistoryPath.Length + 1)..];
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var version))
        {
            await AdminResponses.PlainAsync(context, 404, "404 page not found");
            return;
        }
        var entry = await history.FindVersionAsync(version, context.RequestAborted);
        if (entry is null)
        {
            await VersionNotFoundAsync(context, history, version, "version");
            return;
        }
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("version", entry.Version);
            writer.WriteString("applied_at", Rfc3339.Format(entry.AppliedAt));
            writer.WriteString("origin", entry.Origin);
            writer.WriteString("content_hash", entry.ContentHash);
            writer.WriteBoolean("current", entry.Version == store.Current.Version);
            writer.WritePropertyName("config");
            writer.WriteRawValue(DesiredStateJson.Serialize(entry.State.Config), skipInputValidation: true);
            writer.WriteEndObject();
        }
        await AdminResponses.WriteRawJsonAsync(context, 200, buffer.ToArray());
    }

    private static Task VersionNotFoundAsync(HttpContext context, IDesiredStateHistory history, long version, string field)
    {
        var kept = history.GetHistory();
        var hint = kept.Count == 0
            ? "no versions are kept yet; history starts with the first configuration write"
            : $"this node keeps versions {kept[^1].Version} to {kept[0].Version} (the last {history.HistoryLimit}); see GET /api/config/history";
        return AdminResponses.ErrorAsync(context, 404, $"configuration version {version} is not in the history", "version_not_found",
            [new ApiFieldError(field, $"version {version} is not kept", "version_not_found", hint)]);
    }

    private async Task RollbackAsync(HttpContext context)
    {
        if (History is not { } history)
        {
            await NoHistoryAsync(context);
            return;
        }
        var contentType = context.Request.ContentType;
        if (!string.IsNullOrEmpty(contentType) && !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            await AdminResponses.ErrorAsync(context, 415, "request body must be JSON", "unsupported_media_type",
                [new ApiFieldError("Content-Type", $"'{contentType}' is not JSON; send 'Content-Type: application/json'")]);
            return;
        }
        RollbackRequest? request;
        try
        {
            // Small fixed shape: bound the body instead of trusting Content-Length.
            using var limited = new MemoryStream();
            var chunk = new byte[1024];
            int read;
            while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
            {
                limited.Write(chunk, 0, read);
                if (limited.Length > 4096)
                {
                    await AdminResponses.ErrorAsync(context, 413, "request body is larger than 4096 bytes", "payload_too_large");
                    return;
                }
            }
            request = JsonSerializer.Deserialize(limited.ToArray(), DashboardJsonContext.Strict.RollbackRequest);
        }
        catch (JsonException ex)
        {
            await AdminResponses.ErrorAsync(context, 400, DesiredStateJson.InvalidBodyMessage, null,
                [new ApiFieldError(ex.Path is { Length: > 2 } p ? p[2..] : "version", "send {\"version\": N} with N a version listed by GET /api/config/history")]);
            return;
        }
        if (request?.Version is not { } version)
        {
            await AdminResponses.ErrorAsync(context, 400, "version is required", "invalid_request",
                [new ApiFieldError("version", "send {\"version\": N} with N a version listed by GET /api/config/history")]);
            return;
        }

        var entry = await history.FindVersionAsync(version, context.RequestAborted);
        if (entry is null)
        {
            await VersionNotFoundAsync(context, history, version, "version");
            return;
        }

        // Optional guard, as on PUT: roll back only if nobody wrote since the caller looked.
        var current = store.Current;
        var ifMatch = context.Request.Headers.IfMatch.ToString();
        if (ifMatch.Length > 0 && ifMatch != "*")
        {
            if (!long.TryParse(ifMatch.Trim().TrimStart('W', '/').Trim('"'), NumberStyles.None, CultureInfo.InvariantCulture, out var expected))
            {
                await AdminResponses.ErrorAsync(context, 400, "If-Match must be the ETag returned by GET /api/config, e.g. \"7\"", "invalid_request");
                return;
            }
            if (expected != current.Version)
            {
                context.Response.Headers.ETag = current.ETag;
                await AdminResponses.ErrorAsync(context, 412, $"configuration changed since version {expected} (now {current.Version}); review the history again before rolling back", "version_conflict");
                return;
            }
        }

        // A rollback is an ordinary write of an old configuration: validated again (rules and limits may have changed
        // since), compare-and-set against the version read just above, and a new version in the history.
        var result = await store.PutAsync(current.State with { Config = entry.State.Config }, current.Version,
            OriginOf(context, $"rollback to version {version}"), context.RequestAborted);
        switch (result.Status)
        {
            case StoreWriteStatus.Applied:
                // Read-your-writes, as PUT: answer once this node serves the rolled-back version (bounded wait).
                using (var bounded = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted))
                {
                    bounded.CancelAfter(TimeSpan.FromSeconds(10));
                    try
                    {
                        await runtime.WaitForAppliedAsync(result.Current.Version, bounded.Token);
                    }
                    catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
                    {
                    }
                }
                context.Response.Headers.ETag = result.Current.ETag;
                await AdminResponses.WriteRawJsonAsync(context, 200, DesiredStateJson.SerializeConfigDocument(result.Current.State.Config, result.Current.Version, result.Current.AppliedAt));
                break;
            case StoreWriteStatus.VersionConflict:
                context.Response.Headers.ETag = result.Current.ETag;
                await AdminResponses.ErrorAsync(context, 409, $"configuration changed while rolling back (now version {result.Current.Version}); try again", "version_conflict");
                break;
            case StoreWriteStatus.Invalid:
                await AdminResponses.ErrorAsync(context, 422, $"version {version} is not valid any more", "validation_failed",
                    result.Validation!.Errors.Select(e => new ApiFieldError(e.Field, e.Message, e.Code, e.Hint)).ToList());
                break;
            case StoreWriteStatus.NotLeader:
                await AdminResponses.ErrorAsync(context, 409, "configuration writes must be sent to the raft leader", "not_raft_leader", leaderAddress: result.LeaderAddress);
                break;
            default:
                await AdminResponses.ErrorAsync(context, 503, "the configuration store is unavailable; the rollback was not applied", "store_unavailable",
                    [new ApiFieldError("", result.Message ?? "store unavailable")]);
                break;
        }
    }

    /// <summary>
    /// Cumulative per-route counters since the node started: requests, server errors (5xx) and the duration
    /// histogram. Clients turn two samples into rates and percentiles, so the server keeps no windows.
    /// </summary>
    private Task RouteStatsAsync(HttpContext context)
    {
        var routes = new SortedDictionary<string, RouteStatsView>(StringComparer.Ordinal);
        RouteStatsView For(string route) => routes.TryGetValue(route, out var v) ? v : routes[route] = new RouteStatsView(route);
        foreach (var (tags, sum, _) in metrics.Sample(ProxyMetrics.RequestsInstrument))
        {
            var view = For(tags.GetValueOrDefault("route") ?? "(none)");
            var count = (long)sum;
            view.Requests += count;
            if (tags.GetValueOrDefault("status_class") == "5xx")
            {
                view.Errors += count;
            }
        }
        foreach (var (tags, _, buckets) in metrics.Sample(ProxyMetrics.DurationInstrument))
        {
            if (buckets is null)
            {
                continue;
            }
            var view = For(tags.GetValueOrDefault("route") ?? "(none)");
            view.DurationBuckets ??= new long[buckets.Length];
            for (var i = 0; i < buckets.Length; i++)
            {
                view.DurationBuckets[i] += buckets[i];
            }
        }
        var stats = new RouteStatsListView(Rfc3339.Format(time.GetUtcNow()), PrometheusExporter.HistogramBounds, [.. routes.Values]);
        return AdminResponses.WriteJsonAsync(context, 200, stats, DashboardJsonContext.Relaxed.RouteStatsListView);
    }
}

internal sealed record HistoryView(int Limit, long CurrentVersion, IReadOnlyList<HistoryEntryView> Entries);

internal sealed record HistoryEntryView(long Version, string AppliedAt, string Origin, string ContentHash, int RouteCount, int PoolCount,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] bool Current);

internal sealed record RollbackRequest(long? Version);

internal sealed record RouteStatsListView(string At, IReadOnlyList<double> BucketBounds, IReadOnlyList<RouteStatsView> Routes);

internal sealed class RouteStatsView(string route)
{
    public string Route { get; } = route;

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public long Requests { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public long Errors { get; set; }

    /// <summary>Requests per duration bucket (not cumulative); the last one counts those above every bound.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1819:Properties should not return arrays", Justification = "serialised view")]
    public long[]? DurationBuckets { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(HistoryView))]
[JsonSerializable(typeof(RouteStatsListView))]
[JsonSerializable(typeof(RollbackRequest))]
internal sealed partial class DashboardJsonContext : JsonSerializerContext
{
    public static DashboardJsonContext Relaxed { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    /// <summary>Request bodies: unknown fields and duplicate properties are errors, as on the config endpoints.</summary>
    public static DashboardJsonContext Strict { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        PropertyNameCaseInsensitive = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false,
    });
}
