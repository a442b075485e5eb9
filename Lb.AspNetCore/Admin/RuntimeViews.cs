using Lb.AspNetCore.Runtime;
using Lb.Core.Json;
using Lb.Core.Spec;

namespace Lb.AspNetCore.Admin;

/// <summary>Turns a runtime snapshot into the <c>/api/runtime</c> and <c>/api/explain</c> shapes.</summary>
internal static class RuntimeViews
{
    public static RuntimeView Build(RuntimeSnapshot snapshot)
    {
        var routes = snapshot.Routes.Routes
            .Select(r => new RuntimeRouteView(r.Id, r.Enabled, r.Hosts, new RuntimePathView(r.PathKind, r.PathValue), r.Algorithm, r.UpstreamPool))
            .ToList();
        var pools = snapshot.Upstreams.Pools.Values
            .OrderBy(p => p.Id, StringComparer.Ordinal)
            .Select(pool => new RuntimePoolView(
                pool.Id,
                pool.Targets.Select(t =>
                {
                    var s = t.GetStatus();
                    return new RuntimeTargetView
                    {
                        Address = s.Address,
                        Healthy = s.Healthy,
                        LastCheckedAt = pool.HealthCheck is not null && s.LastCheckedAt is { } at ? Rfc3339.Format(at) : null,
                        LastError = string.IsNullOrEmpty(s.LastError) ? null : s.LastError,
                        ActiveConnections = s.ActiveConnections,
                        Weight = t.Weight,
                        ConsecutiveFailures = s.ConsecutiveFailures,
                        EjectedUntil = s.EjectedUntil is { } until ? Rfc3339.Format(until) : null,
                        CheckProgress = s.CheckProgress is { } p ? new RuntimeCheckProgressView(p.Direction, p.Count, p.Needed, p.ToString()) : null,
                    };
                }).ToList(),
                pool.HealthCheck is { } hc
                    ? new RuntimeHealthCheckView(hc.Path, GoDuration.Format(hc.Interval), GoDuration.Format(hc.Timeout), hc.ExpectStatus, hc.Rise, hc.Fall)
                    : null))
            .ToList();
        return new RuntimeView(Rfc3339.Format(snapshot.AppliedAt), snapshot.Version, routes, pools);
    }

    public static ExplainView Explain(RuntimeSnapshot snapshot, string host, string path)
    {
        var explanation = snapshot.Routes.Explain(host, path);
        var matched = explanation.Matched;
        var winner = explanation.Candidates.FirstOrDefault(c => c.Selected);
        var reason = matched is null
            ? "no route matches; the proxy answers 404 no matching route"
            : winner?.Reason ?? $"route '{matched.Id}' matched";
        return new ExplainView(
            explanation.Host,
            explanation.Path,
            matched?.Id,
            matched?.UpstreamPool,
            reason,
            explanation.Candidates.Select(c => new ExplainCandidateView(c.Route.Id, c.Reason)).ToList());
    }
}
