using System.Globalization;
using System.Net;
using System.Text;
using Lb.AspNetCore.Diagnostics;
using Lb.AspNetCore.Runtime;
using Lb.Balancing;
using Lb.Core.Json;
using Lb.Core.Spec;
using Microsoft.AspNetCore.Http;

namespace Lb.AspNetCore.Admin;

/// <summary>
/// The stats page in HAProxy's spirit on the admin listener: <c>/stats</c> (HTML, refreshes itself) and
/// <c>/stats;csv</c> or <c>/stats?format=csv</c>, one row per route, pool and target. Live state comes from the runtime
/// snapshot and the targets' own counters; request and status-class counts from the proxy's metrics (since start).
/// </summary>
internal sealed class StatsPage(RuntimeManager runtime, PrometheusExporter metrics, AdminApi admin)
{
    public const string Path = "/stats";
    public const string CsvPath = "/stats;csv";

    private const int RefreshSeconds = 5;
    private static readonly string[] Classes = ["1xx", "2xx", "3xx", "4xx", "5xx"];

    private static readonly string[] Columns =
    [
        "type", "route", "pool", "target", "status", "weight", "algorithm", "check_status", "check_duration_ms", "last_check",
        "scur", "smax", "req_tot", "hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other", "downtime_s",
        "qcur", "qmax", "qlimit", "slim", "bin", "bout",
    ];

    public async Task HandleAsync(HttpContext context)
    {
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            await AdminResponses.ErrorAsync(context, 405, "method not allowed");
            return;
        }
        if (!admin.Authorized(context, isRead: true))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await AdminResponses.ErrorAsync(context, 401, "missing or wrong admin token", "unauthorized");
            return;
        }
        var rows = Rows();
        var csv = context.Request.Path.Value == CsvPath || string.Equals(context.Request.Query["format"], "csv", StringComparison.OrdinalIgnoreCase);
        context.Response.Headers.CacheControl = "no-store";
        if (csv)
        {
            context.Response.ContentType = "text/csv; charset=utf-8";
            await context.Response.WriteAsync(Csv(rows), context.RequestAborted);
            return;
        }
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync(Html(rows), context.RequestAborted);
    }

    /// <summary>One row of the page: a route, a pool (its targets summed) or a target.</summary>
    internal sealed record Row(string Type, string Route, string Pool, string Target, string Status, string Weight, string Algorithm,
        string CheckStatus, string CheckDurationMs, string LastCheck, long Current, long Max, long Requests, long[] StatusClasses, string Downtime)
    {
        /// <summary>Queue now, most at once, and its size (pool rows); empty elsewhere, the queue being the pool's.</summary>
        public string QueueCurrent { get; init; } = "";

        public string QueueMax { get; init; } = "";

        public string QueueLimit { get; init; } = "";

        /// <summary>The connection limit (<c>max_connections</c>); empty when there is none.</summary>
        public string SessionLimit { get; init; } = "";

        public long BytesIn { get; init; }

        public long BytesOut { get; init; }

        public string[] Cells() =>
        [
            Type, Route, Pool, Target, Status, Weight, Algorithm, CheckStatus, CheckDurationMs, LastCheck,
            Num(Current), Num(Max), Num(Requests), .. StatusClasses.Select(Num), Downtime,
            QueueCurrent, QueueMax, QueueLimit, SessionLimit, Type == "route" ? "" : Num(BytesIn), Type == "route" ? "" : Num(BytesOut),
        ];
    }

    internal List<Row> Rows()
    {
        var snapshot = runtime.Current;
        var byRoute = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var (tags, sum, _) in metrics.Sample(ProxyMetrics.RequestsInstrument))
        {
            Add(byRoute, tags.GetValueOrDefault("route") ?? "(none)", tags.GetValueOrDefault("status_class"), (long)sum);
        }
        var byTarget = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var (tags, sum, _) in metrics.Sample(ProxyMetrics.UpstreamResponsesInstrument))
        {
            Add(byTarget, tags.GetValueOrDefault("pool") + "\n" + tags.GetValueOrDefault("target"), tags.GetValueOrDefault("status_class"), (long)sum);
        }

        var rows = new List<Row>();
        foreach (var route in snapshot.Routes.Routes)
        {
            var counts = byRoute.GetValueOrDefault(route.Id) ?? new long[Classes.Length + 1];
            rows.Add(new Row("route", route.Id, route.UpstreamPool, "", route.Enabled ? "OPEN" : "DISABLED", "", route.Algorithm, "", "", "",
                0, 0, counts.Sum(), counts, ""));
        }
        foreach (var pool in snapshot.Upstreams.Pools.Values.OrderBy(p => p.Id, StringComparer.Ordinal))
        {
            var targetRows = new List<Row>();
            foreach (var target in pool.Targets)
            {
                var status = target.GetStatus();
                var counts = byTarget.GetValueOrDefault(pool.Id + "\n" + target.Address) ?? new long[Classes.Length + 1];
                var check = pool.HealthCheck is null ? "no check" : status.LastCheckedAt is null ? "pending" : status.LastError ?? "ok";
                targetRows.Add(new Row("target", "", pool.Id, target.Address, TargetStatusText(target, status), Num(target.Weight), "",
                    check, target.LastCheckDuration is { } d ? d.TotalMilliseconds.ToString("0.#", CultureInfo.InvariantCulture) : "",
                    status.LastCheckedAt is { } at ? Rfc3339.Format(at) : "",
                    target.ActiveRequests, target.MaxActiveRequests, counts.Sum(), counts, target.Downtime.TotalSeconds.ToString("0", CultureInfo.InvariantCulture))
                {
                    SessionLimit = target.MaxConnections > 0 ? Num(target.MaxConnections) : "",
                    BytesIn = target.BytesIn,
                    BytesOut = target.BytesOut,
                });
            }
            var up = pool.Targets.Count(t => t.IsAvailable);
            var sums = new long[Classes.Length + 1];
            foreach (var r in targetRows)
            {
                for (var i = 0; i < sums.Length; i++)
                {
                    sums[i] += r.StatusClasses[i];
                }
            }
            rows.Add(new Row("pool", "", pool.Id, "", up > 0 ? $"UP {up}/{pool.Targets.Count}" : $"DOWN 0/{pool.Targets.Count}", "", "",
                pool.HealthCheck is { } hc ? (hc.Tcp ? "tcp" : "http " + hc.Path) : "", "", "",
                targetRows.Sum(r => r.Current), targetRows.Sum(r => r.Max), sums.Sum(), sums, "")
            {
                QueueCurrent = pool.HasLimits ? Num(pool.Queue.Waiting) : "",
                QueueMax = pool.HasLimits ? Num(pool.Queue.MaxWaiting) : "",
                QueueLimit = pool.HasLimits ? Num(pool.QueueSize) : "",
                BytesIn = targetRows.Sum(r => r.BytesIn),
                BytesOut = targetRows.Sum(r => r.BytesOut),
            });
            rows.AddRange(targetRows);
        }
        return rows;
    }

    private static string TargetStatusText(UpstreamTarget target, TargetStatus status) => target.State switch
    {
        TargetStates.Maint => "MAINT",
        TargetStates.Drain => status.Healthy ? "DRAIN" : "DRAIN (DOWN)",
        _ => !status.Healthy ? (status.EjectedUntil is not null ? "EJECTED" : "DOWN") : status.CheckProgress is { } p ? $"UP ({p})" : "UP",
    };

    /// <summary>Counts by status class; the last slot takes answers without a class (no response from the target).</summary>
    private static void Add(Dictionary<string, long[]> into, string key, string? statusClass, long count)
    {
        if (!into.TryGetValue(key, out var counts))
        {
            into[key] = counts = new long[Classes.Length + 1];
        }
        var i = Array.IndexOf(Classes, statusClass);
        counts[i < 0 ? Classes.Length : i] += count;
    }

    private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);

    internal static string Csv(List<Row> rows)
    {
        var sb = new StringBuilder("# ").AppendJoin(',', Columns).Append('\n');
        foreach (var row in rows)
        {
            sb.AppendJoin(',', row.Cells().Select(CsvCell)).Append('\n');
        }
        return sb.ToString();
    }

    private static string CsvCell(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string Html(List<Row> rows)
    {
        var sb = new StringBuilder();
        sb.Append("<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"").Append(RefreshSeconds)
          .Append("\"><title>Lb stats</title><style>body{font:13px sans-serif;margin:1em}table{border-collapse:collapse}")
          .Append("td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td:nth-child(-n+8){text-align:left}")
          .Append("tr.route{background:#eef}tr.pool{background:#ddd;font-weight:bold}tr.down td:nth-child(5){background:#f88}")
          .Append("tr.drain td:nth-child(5){background:#fc6}tr.maint td:nth-child(5){background:#aaf}tr.up td:nth-child(5){background:#8d8}</style></head><body>")
          .Append("<h1>Lb stats</h1><p>Refreshes every ").Append(RefreshSeconds).Append(" s. Counters since this node started. <a href=\"")
          .Append(CsvPath).Append("\">CSV</a></p><table><tr>");
        foreach (var column in Columns)
        {
            sb.Append("<th>").Append(column).Append("</th>");
        }
        sb.Append("</tr>");
        foreach (var row in rows)
        {
            var css = row.Type == "target"
                ? row.Status.StartsWith("UP", StringComparison.Ordinal) ? "up" : row.Status.StartsWith("DRAIN", StringComparison.Ordinal) ? "drain" : row.Status == "MAINT" ? "maint" : "down"
                : row.Type;
            sb.Append("<tr class=\"").Append(css).Append("\">");
            foreach (var cell in row.Cells())
            {
                sb.Append("<td>").Append(WebUtility.HtmlEncode(cell)).Append("</td>");
            }
            sb.Append("</tr>");
        }
        sb.Append("</table></body></html>");
        return sb.ToString();
    }
}
