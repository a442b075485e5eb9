using Lb.AspNetCore.Runtime;
using Lb.Core.Json;
using Lb.Core.Spec;

namespace Lb.AspNetCore.Admin;

/// <summary>Turns a runtime snapshot into the <c>/api/runtime</c> and <c>/api/explain</c> shapes.</summary>
internal static class RuntimeViews
{
    public static RuntimeView Build(RuntimeSnapshot snapshot, IReadOnlyList<L4.TcpListenerManager.TcpListenerState>? tcp = null)
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
                        MaxConnections = t.MaxConnections > 0 ? t.MaxConnections : null,
                        ConsecutiveFailures = s.ConsecutiveFailures,
                        EjectedUntil = s.EjectedUntil is { } until ? Rfc3339.Format(until) : null,
                        CheckProgress = s.CheckProgress is { } p ? new RuntimeCheckProgressView(p.Direction, p.Count, p.Needed, p.ToString()) : null,
                        State = s.State == TargetStates.Ready ? null : s.State,
                    };
                }).ToList(),
                pool.HealthCheck is { } hc
                    ? new RuntimeHealthCheckView(hc.Path, GoDuration.Format(hc.Interval), GoDuration.Format(hc.Timeout), hc.ExpectStatus, hc.Rise, hc.Fall)
                    : null)
            {
                Queue = pool.HasLimits
                    ? new RuntimeQueueView(pool.QueueSize, GoDuration.Format(pool.QueueTimeout), pool.Queue.Waiting, pool.Queue.MaxWaiting)
                    : null,
            })
            .ToList();
        return new RuntimeView(Rfc3339.Format(snapshot.AppliedAt), snapshot.Version, routes, pools) { TcpListeners = TcpListeners(snapshot, tcp ?? []) };
    }

    /// <summary>The snapshot's listeners with the live state the listener manager has for them (pending until it reconciled).</summary>
    private static List<RuntimeTcpListenerView>? TcpListeners(RuntimeSnapshot snapshot, IReadOnlyList<L4.TcpListenerManager.TcpListenerState> states)
    {
        if (snapshot.TcpListeners.Length == 0)
        {
            return null;
        }
        return [.. snapshot.TcpListeners.Select(l =>
        {
            var live = states.FirstOrDefault(s => s.Id == l.Id && s.Runtime.Host == l.Host && s.Runtime.Port == l.Port);
            var bound = live?.BoundEndPoint;
            return new RuntimeTcpListenerView
            {
                Id = l.Id,
                Listen = l.Spec.Listen,
                Bound = bound?.ToString(),
                Port = bound?.Port ?? 0,
                State = live is null ? "pending" : live.Error is not null ? "failed" : "listening",
                Error = live?.Error,
                UpstreamPool = l.Spec.UpstreamPool,
                Algorithm = l.Spec.EffectiveAlgorithm,
                OpenConnections = live?.OpenConnections ?? 0,
                AcceptedConnections = live?.AcceptedConnections ?? 0,
                RejectedConnections = live?.RejectedConnections ?? 0,
                FailedConnections = live?.FailedConnections ?? 0,
                MaxConnections = l.MaxConnections,
                ConnectTimeout = GoDuration.Format(l.ConnectTimeout),
                IdleTimeout = GoDuration.Format(l.IdleTimeout),
            };
        })];
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
