namespace Lb.Core.Spec;

/// <summary>
/// A change to a proxy configuration by route and pool id: routes and pools to add or replace, ids to remove, and
/// optionally a new list of TCP listeners. Applied to a configuration it builds the next one and shares every route
/// and pool it does not touch, so a one-route edit of a 10,000-route configuration costs one route, not the whole
/// document (a replicated store carries it in its log instead of the whole document).
/// </summary>
/// <remarks>
/// Order rules, which make <see cref="ApplyTo"/> deterministic: removals first; then a route whose id is already
/// there is replaced in place and a new one is appended at the end (in the order given); pools are keyed by id.
/// </remarks>
public sealed record ConfigChange
{
    private static readonly IReadOnlyList<string> NoHosts = [];

    /// <summary>Routes to add (new id, appended) or replace (existing id, same position).</summary>
    public IReadOnlyList<RouteSpec> UpsertRoutes { get; init; } = [];

    /// <summary>Ids of routes to remove.</summary>
    public IReadOnlyList<string> RemoveRoutes { get; init; } = [];

    /// <summary>Pools to add or replace, keyed by pool id.</summary>
    public IReadOnlyDictionary<string, UpstreamPoolSpec> UpsertPools { get; init; } = ProxyConfig.EmptyPools;

    /// <summary>Ids of pools to remove.</summary>
    public IReadOnlyList<string> RemovePools { get; init; } = [];

    /// <summary>The whole new list of TCP listeners (empty: none); null leaves them as they are.</summary>
    public IReadOnlyList<TcpListenerSpec>? TcpListeners { get; init; }

    /// <summary>Whether the change changes nothing.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsEmpty => UpsertRoutes.Count == 0 && RemoveRoutes.Count == 0 && UpsertPools.Count == 0 && RemovePools.Count == 0 && TcpListeners is null;

    /// <summary>
    /// The configuration after this change: <paramref name="current"/> (normalised, as stores hold it) with the
    /// changed routes and pools normalised and put in; every other route and pool is the same instance as before.
    /// Ids that are not there are ignored on removal; validation decides whether the result is acceptable.
    /// </summary>
    public ProxyConfig ApplyTo(ProxyConfig current)
    {
        ArgumentNullException.ThrowIfNull(current);
        var routes = current.Routes;
        if (UpsertRoutes.Count > 0 || RemoveRoutes.Count > 0)
        {
            routes = ApplyRoutes(current.Routes);
        }
        var pools = current.UpstreamPools;
        if (UpsertPools.Count > 0 || RemovePools.Count > 0)
        {
            var next = new SortedDictionary<string, UpstreamPoolSpec>(StringComparer.Ordinal);
            foreach (var (id, pool) in current.UpstreamPools)
            {
                next.Add(id, pool);
            }
            foreach (var id in RemovePools)
            {
                next.Remove(id ?? "");
            }
            foreach (var (id, pool) in UpsertPools)
            {
                next[id ?? ""] = Json.DesiredStateJson.NormalizePool(pool);
            }
            pools = next;
        }
        var listeners = current.TcpListeners;
        if (TcpListeners is not null)
        {
            listeners = TcpListeners.Count > 0 ? [.. TcpListeners.Select(Json.DesiredStateJson.NormalizeTcpListener)] : null;
        }
        return current with { Routes = routes, UpstreamPools = pools, TcpListeners = listeners };
    }

    private RouteSpec[] ApplyRoutes(IReadOnlyList<RouteSpec> current)
    {
        var removed = new HashSet<string>(RemoveRoutes.Select(id => id ?? ""), StringComparer.Ordinal);
        // Upserts by id; a later entry of the same id wins. Small changes find their position by a scan, which beats
        // hashing every id of a large configuration.
        var upserts = new Dictionary<string, RouteSpec>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var route in UpsertRoutes)
        {
            var normalized = Json.DesiredStateJson.NormalizeRoute(route);
            if (upserts.TryAdd(normalized.Id, normalized))
            {
                order.Add(normalized.Id);
            }
            else
            {
                upserts[normalized.Id] = normalized;
            }
        }
        var result = new List<RouteSpec>(current.Count + upserts.Count);
        var placed = new HashSet<string>(StringComparer.Ordinal);
        var mayMatch = removed.Count + upserts.Count;
        for (var i = 0; i < current.Count; i++)
        {
            var route = current[i];
            if (mayMatch > 0)
            {
                if (removed.Contains(route.Id))
                {
                    continue;
                }
                if (upserts.TryGetValue(route.Id, out var replacement) && placed.Add(route.Id))
                {
                    result.Add(replacement);
                    continue;
                }
            }
            result.Add(route);
        }
        foreach (var id in order)
        {
            if (!placed.Contains(id))
            {
                result.Add(upserts[id]);
            }
        }
        return [.. result];
    }

    /// <summary>
    /// The change that turns <paramref name="from"/> into <paramref name="to"/> (both normalised), or null when none
    /// can (routes in another order than <see cref="ApplyTo"/> would leave them, or duplicate ids): then the whole
    /// configuration has to be written.
    /// </summary>
    public static ConfigChange? Between(ProxyConfig from, ProxyConfig to)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        var upsertRoutes = new List<RouteSpec>();
        var removeRoutes = new List<string>();
        if (!ReferenceEquals(from.Routes, to.Routes))
        {
            var positions = new Dictionary<string, int>(from.Routes.Count, StringComparer.Ordinal);
            for (var i = 0; i < from.Routes.Count; i++)
            {
                if (!positions.TryAdd(from.Routes[i].Id, i))
                {
                    return null;
                }
            }
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var last = -1;
            var appending = false;
            foreach (var route in to.Routes)
            {
                if (!seen.Add(route.Id))
                {
                    return null;
                }
                if (positions.TryGetValue(route.Id, out var at))
                {
                    // Kept routes must keep their relative order and come before every new one.
                    if (appending || at < last)
                    {
                        return null;
                    }
                    last = at;
                    if (!SameRoute(from.Routes[at], route))
                    {
                        upsertRoutes.Add(route);
                    }
                }
                else
                {
                    appending = true;
                    upsertRoutes.Add(route);
                }
            }
            foreach (var route in from.Routes)
            {
                if (!seen.Contains(route.Id))
                {
                    removeRoutes.Add(route.Id);
                }
            }
        }
        var upsertPools = new SortedDictionary<string, UpstreamPoolSpec>(StringComparer.Ordinal);
        var removePools = new List<string>();
        if (!ReferenceEquals(from.UpstreamPools, to.UpstreamPools))
        {
            foreach (var (id, pool) in to.UpstreamPools)
            {
                if (!from.UpstreamPools.TryGetValue(id, out var before) || !SamePool(before, pool))
                {
                    upsertPools[id] = pool;
                }
            }
            foreach (var id in from.UpstreamPools.Keys)
            {
                if (!to.UpstreamPools.ContainsKey(id))
                {
                    removePools.Add(id);
                }
            }
        }
        var sameListeners = (from.TcpListeners ?? []).SequenceEqual(to.TcpListeners ?? []);
        return new ConfigChange
        {
            UpsertRoutes = upsertRoutes,
            RemoveRoutes = removeRoutes,
            UpsertPools = upsertPools,
            RemovePools = removePools,
            TcpListeners = sameListeners ? null : to.TcpListeners ?? [],
        };
    }

    /// <summary>Whether two routes are equal by value (their host lists by content).</summary>
    public static bool SameRoute(RouteSpec a, RouteSpec b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        // Records compare collections by reference; compare the host list by content and the rest as records.
        return ReferenceEquals(a, b)
            || (a.Match.Hosts.SequenceEqual(b.Match.Hosts, StringComparer.Ordinal)
                && (a with { Match = a.Match with { Hosts = NoHosts } }) == (b with { Match = b.Match with { Hosts = NoHosts } }));
    }

    /// <summary>Whether two pools are equal by value (their upstream lists by content).</summary>
    public static bool SamePool(UpstreamPoolSpec a, UpstreamPoolSpec b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return ReferenceEquals(a, b)
            || (a.Upstreams.SequenceEqual(b.Upstreams) && (a with { Upstreams = NoUpstreams }) == (b with { Upstreams = NoUpstreams }));
    }

    private static readonly IReadOnlyList<UpstreamSpec> NoUpstreams = [];
}
