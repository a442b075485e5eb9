using System.Diagnostics;
using System.Diagnostics.Metrics;
using Lb.AspNetCore.Runtime;

namespace Lb.AspNetCore.Diagnostics;

/// <summary>
/// Proxy metrics on the meter <c>Lb.AspNetCore</c>: requests by route and status class, request duration and
/// in-flight requests per target. Tags are fixed small sets so recording does not allocate.
/// </summary>
internal sealed class ProxyMetrics
{
    public const string MeterName = "Lb.AspNetCore";
    public const string RequestsInstrument = "lb.proxy.requests";
    public const string DurationInstrument = "lb.proxy.request.duration";
    public const string UpstreamResponsesInstrument = "lb.upstream.responses";
    public const string UpstreamDurationInstrument = "lb.upstream.response.duration";

    private static readonly string[] StatusClasses = ["1xx", "2xx", "3xx", "4xx", "5xx"];

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _upstreamResponses;
    private readonly Histogram<double> _upstreamDuration;

    public ProxyMetrics(IMeterFactory meterFactory, RuntimeManager runtime)
    {
        var meter = meterFactory.Create(MeterName);
        _requests = meter.CreateCounter<long>(RequestsInstrument, "{request}", "Requests handled by the proxy, by route and status class");
        _duration = meter.CreateHistogram<double>(DurationInstrument, "s", "Time from request start to the end of forwarding");
        // Per target, so an operator sees which backend answers 5xx or slowly; the exporter drops a target's series
        // once the target is no longer in the served configuration.
        _upstreamResponses = meter.CreateCounter<long>(UpstreamResponsesInstrument, "{response}", "Responses per upstream target by status class; class error when the target gave no response (refused, reset, timed out)");
        _upstreamDuration = meter.CreateHistogram<double>(UpstreamDurationInstrument, "s", "Time from sending a request to a target to the end of its response");
        // Read from the targets' own in-flight counters when a listener samples (a /metrics scrape), instead of an
        // up/down counter recorded twice per request: the balancers keep that count anyway, so it costs the data path nothing.
        meter.CreateObservableGauge("lb.proxy.active_requests", () => ObserveActive(runtime), "{request}", "Requests in flight per upstream target");
        // Sampled at scrape time from the snapshot: a removed target's series is gone at the next scrape.
        meter.CreateObservableGauge("lb.upstream.up", () => ObserveUp(runtime), "{target}", "1 when the upstream target takes traffic (healthy and not ejected), else 0");
        meter.CreateObservableGauge("lb.config.version", () => runtime.Current.Version, "{version}", "Version of the configuration this node serves");
        meter.CreateObservableGauge("lb.config.last_apply_timestamp_seconds", () => ObserveAppliedAt(runtime), "s", "When this node applied the configuration it serves, Unix time");
    }

    private static IEnumerable<Measurement<long>> ObserveUp(RuntimeManager runtime)
    {
        foreach (var (id, pool) in runtime.Current.Upstreams.Pools)
        {
            foreach (var target in pool.Targets)
            {
                yield return new Measurement<long>(target.IsAvailable ? 1 : 0, new KeyValuePair<string, object?>("pool", id), new KeyValuePair<string, object?>("target", target.Address));
            }
        }
    }

    private static IEnumerable<Measurement<double>> ObserveAppliedAt(RuntimeManager runtime)
    {
        var current = runtime.Current;
        if (current.Version >= 0)
        {
            yield return new Measurement<double>(current.AppliedAt.ToUnixTimeMilliseconds() / 1000.0);
        }
    }

    /// <summary>A timestamp to pass to <see cref="Request(string?, int, long)"/>, or 0 when nobody listens to the duration histogram.</summary>
    public long Start() => _duration.Enabled ? Stopwatch.GetTimestamp() : 0;

    public void Request(string? routeId, int status, long startedTimestamp) => Request(routeId, status, startedTimestamp, 0);

    /// <summary>As above, with the request's end when the caller already read the clock for it (0: now).</summary>
    public void Request(string? routeId, int status, long startedTimestamp, long endedTimestamp)
    {
        var statusClass = status is >= 100 and < 600 ? StatusClasses[(status / 100) - 1] : "other";
        var route = new KeyValuePair<string, object?>("route", routeId ?? "(none)");
        _requests.Add(1, route, new KeyValuePair<string, object?>("status_class", statusClass));
        if (startedTimestamp != 0)
        {
            _duration.Record(Stopwatch.GetElapsedTime(startedTimestamp, endedTimestamp != 0 ? endedTimestamp : Stopwatch.GetTimestamp()).TotalSeconds, route);
        }
    }

    /// <summary>
    /// Records one attempt on a target: <paramref name="status"/> is the target's response status, or 0 when it gave
    /// none. <paramref name="startedTimestamp"/> is a <see cref="Stopwatch"/> timestamp taken before sending.
    /// </summary>
    public void Upstream(string poolId, string address, int status, long startedTimestamp) =>
        Upstream(poolId, address, status, startedTimestamp, Stopwatch.GetTimestamp());

    /// <summary>As above, with the attempt's end read by the caller.</summary>
    public void Upstream(string poolId, string address, int status, long startedTimestamp, long endedTimestamp)
    {
        var statusClass = status is >= 100 and < 600 ? StatusClasses[(status / 100) - 1] : "error";
        var pool = new KeyValuePair<string, object?>("pool", poolId);
        var target = new KeyValuePair<string, object?>("target", address);
        _upstreamResponses.Add(1, pool, target, new KeyValuePair<string, object?>("status_class", statusClass));
        if (_upstreamDuration.Enabled)
        {
            _upstreamDuration.Record(Stopwatch.GetElapsedTime(startedTimestamp, endedTimestamp).TotalSeconds, pool, target);
        }
    }

    /// <summary>Whether <paramref name="poolId"/> still has <paramref name="address"/> in the served configuration.</summary>
    public static bool IsLiveTarget(RuntimeManager runtime, string poolId, string address)
    {
        if (!runtime.Current.Upstreams.Pools.TryGetValue(poolId, out var pool))
        {
            return false;
        }
        foreach (var target in pool.Targets)
        {
            if (target.Address == address)
            {
                return true;
            }
        }
        return false;
    }

    private static IEnumerable<Measurement<long>> ObserveActive(RuntimeManager runtime)
    {
        foreach (var (id, pool) in runtime.Current.Upstreams.Pools)
        {
            foreach (var target in pool.Targets)
            {
                yield return new Measurement<long>(target.ActiveRequests, new KeyValuePair<string, object?>("pool", id), new KeyValuePair<string, object?>("target", target.Address));
            }
        }
    }
}
