using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Lb.AspNetCore.Diagnostics;

/// <summary>
/// Proxy metrics on the meter <c>Lb.AspNetCore</c>: requests by route and status class, request duration and
/// in-flight requests per target. Tags are fixed small sets so recording does not allocate.
/// </summary>
internal sealed class ProxyMetrics
{
    public const string MeterName = "Lb.AspNetCore";

    private static readonly string[] StatusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"];

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly UpDownCounter<long> _active;

    public ProxyMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _requests = meter.CreateCounter<long>("lb.proxy.requests", "{request}", "Requests handled by the proxy, by route and status class");
        _duration = meter.CreateHistogram<double>("lb.proxy.request.duration", "s", "Time from request start to the end of forwarding");
        _active = meter.CreateUpDownCounter<long>("lb.proxy.active_requests", "{request}", "Requests in flight per upstream target");
    }

    public void Request(string? routeId, int status, long startedTimestamp)
    {
        var statusClass = status is >= 100 and < 600 ? StatusClasses[(status / 100) - 1] : "other";
        var route = new KeyValuePair<string, object?>("route", routeId ?? "(none)");
        _requests.Add(1, route, new KeyValuePair<string, object?>("status_class", statusClass));
        _duration.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds, route);
    }

    public void TargetActive(string pool, string target, int delta) =>
        _active.Add(delta, new KeyValuePair<string, object?>("pool", pool), new KeyValuePair<string, object?>("target", target));
}
