using System.Text.RegularExpressions;
using Lb.Core.Spec;
using Lb.Routing.Matching;

namespace Lb.Routing;

/// <summary>
/// An immutable, compiled set of routes that maps a request's host and path to the route that serves it.
/// </summary>
/// <remarks>
/// <para>Precedence, applied to each request:</para>
/// <list type="number">
/// <item>Host level, most specific first: the exact host (case-insensitive, port and one trailing dot ignored),
/// then wildcard hosts from the longest suffix to the shortest (<c>*.a.example.com</c> before <c>*.example.com</c>;
/// a wildcard needs at least one label in front, so <c>*.example.com</c> does not match <c>example.com</c>), then
/// routes without hosts. When no route of a level matches the path, the next level is tried.</item>
/// <item>Within a level: exact path, then prefixes from the deepest to the shallowest (segment depth as in
/// contract §3.2), then regexes in declaration order, then routes without a path condition.</item>
/// <item>Remaining ties (two exact routes with the same path, two prefixes with the same base, two routes without
/// a path): the route id in ordinal order.</item>
/// </list>
/// <para>Disabled routes are listed in <see cref="Routes"/> but never match. Routes that cannot be compiled (an
/// invalid regex, an unknown path type) are left out; validation rejects them before they get here.</para>
/// <para><see cref="Match"/> allocates nothing and never throws; a regex that hits its match timeout counts as
/// not matching. Instances are safe to share between threads.</para>
/// </remarks>
public sealed class RouteTable
{
    private const string AnyHostLevel = "*";

    private readonly Dictionary<string, HostBucket>.AlternateLookup<ReadOnlySpan<char>> _exactHosts;
    private readonly bool _hasExactHosts;
    private readonly Dictionary<string, HostBucket>.AlternateLookup<ReadOnlySpan<char>> _wildcardHosts;
    private readonly bool _hasWildcardHosts;
    private readonly HostBucket? _anyHost;
    private readonly Dictionary<string, HostBucket> _exactMap;
    private readonly Dictionary<string, HostBucket> _wildcardMap;
    private readonly CompiledRoute[] _routes;
    // What the next Compile needs to take this table over: the route list it was compiled from and the free slots.
    private readonly IReadOnlyList<RouteSpec> _specs;
    private readonly int[] _freeSlots;

    private RouteTable(CompiledRoute[] routes, Dictionary<string, HostBucket> exactHosts, Dictionary<string, HostBucket> wildcardHosts, HostBucket? anyHost,
        IReadOnlyList<RouteSpec> specs, int slotCount, int[] freeSlots)
    {
        Routes = routes;
        _routes = routes;
        _exactMap = exactHosts;
        _wildcardMap = wildcardHosts;
        _specs = specs;
        SlotCount = slotCount;
        _freeSlots = freeSlots;
        _hasExactHosts = exactHosts.Count > 0;
        _exactHosts = exactHosts.GetAlternateLookup<ReadOnlySpan<char>>();
        _hasWildcardHosts = wildcardHosts.Count > 0;
        _wildcardHosts = wildcardHosts.GetAlternateLookup<ReadOnlySpan<char>>();
        _anyHost = anyHost;
    }

    /// <summary>A table without routes: every request is unmatched.</summary>
    public static RouteTable Empty { get; } = Compile(ProxyConfig.Empty);

    /// <summary>
    /// Every compiled route, disabled ones included, in priority order: exact paths, prefixes by depth (deepest
    /// first), regexes, routes without a path; exact, prefix and path-less ties by route id, regexes by
    /// declaration order. Within any one host level, <see cref="Match"/> picks the first matching route of this list.
    /// </summary>
    public IReadOnlyList<CompiledRoute> Routes { get; }

    /// <summary>Size of a side table indexed by <see cref="CompiledRoute.Slot"/> (at least <see cref="Routes"/>' count).</summary>
    public int SlotCount { get; }

    /// <summary>
    /// Compiles <paramref name="config"/>. The configuration is expected to be validated; odd input does not
    /// throw, routes that cannot be compiled are skipped.
    /// </summary>
    public static RouteTable Compile(ProxyConfig config) => Compile(config, previous: null);

    /// <summary>
    /// Compiles <paramref name="config"/>, taking what did not change from <paramref name="previous"/> (the table of
    /// the configuration it replaces): a regex whose pattern is still used is the same instance, not built again. When
    /// the route list differs from the previous one in a few routes only (the same <see cref="RouteSpec"/> instances
    /// around a replaced, appended or trailing removed run, as a store that applies changes by id produces), the other
    /// routes and every host level they alone use are taken over as they are, with their slots.
    /// </summary>
    public static RouteTable Compile(ProxyConfig config, RouteTable? previous)
    {
        ArgumentNullException.ThrowIfNull(config);
        var specs = config.Routes ?? [];
        if (previous is not null && TryTakeOver(specs, previous) is { } incremental)
        {
            return incremental;
        }
        var compiled = new List<CompiledRoute>(specs.Count);
        // Building a non-backtracking regex dominates compile time, and many routes tend to repeat a pattern
        // (one per tenant host, say); Regex instances are immutable and thread-safe, so equal patterns share one,
        // also with the previous table.
        var regexes = new Dictionary<string, Regex?>(StringComparer.Ordinal);
        if (previous is not null)
        {
            foreach (var route in previous.Routes)
            {
                if (route.PathRegex is { } kept)
                {
                    regexes.TryAdd(route.PathValue!, kept);
                }
            }
        }
        for (var i = 0; i < specs.Count; i++)
        {
            if (specs[i] is { } spec && TryCompileRoute(spec, i, regexes) is { } route)
            {
                compiled.Add(route);
            }
        }
        compiled.Sort(ComparePriority);
        var routes = compiled.ToArray();
        for (var i = 0; i < routes.Length; i++)
        {
            routes[i].PriorityIndex = i;
            routes[i].Slot = i;
        }

        // Routes are added in priority order, so each level's list comes out in priority order too.
        var exactLists = new Dictionary<string, List<CompiledRoute>>(StringComparer.OrdinalIgnoreCase);
        var wildcardLists = new Dictionary<string, List<CompiledRoute>>(StringComparer.OrdinalIgnoreCase);
        var anyList = new List<CompiledRoute>();
        foreach (var route in routes)
        {
            if (route.Hosts.Count == 0)
            {
                // A spec that listed hosts but none usable must not turn into a match-everything route.
                if ((route.Spec.Match?.Hosts?.Count ?? 0) == 0)
                {
                    anyList.Add(route);
                }
                continue;
            }
            foreach (var host in route.Hosts)
            {
                var (lists, key) = HostNames.IsWildcard(host) ? (wildcardLists, host[2..]) : (exactLists, host);
                if (!lists.TryGetValue(key, out var list))
                {
                    lists[key] = list = [];
                }
                list.Add(route);
            }
        }

        var exactHosts = new Dictionary<string, HostBucket>(exactLists.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var (host, list) in exactLists)
        {
            exactHosts[host] = HostBucket.Create(host, list);
        }
        var wildcardHosts = new Dictionary<string, HostBucket>(wildcardLists.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var (suffix, list) in wildcardLists)
        {
            wildcardHosts[suffix] = HostBucket.Create("*." + suffix, list);
        }
        var anyHost = anyList.Count == 0 ? null : HostBucket.Create(AnyHostLevel, anyList);
        return new RouteTable(routes, exactHosts, wildcardHosts, anyHost, specs, routes.Length, []);
    }

    /// <summary>
    /// The new table as the previous one with a run of routes swapped, or null when the lists differ in more than a
    /// run, or when routes behind the run moved (their declaration index changes, so they would all be new instances).
    /// </summary>
    private static RouteTable? TryTakeOver(IReadOnlyList<RouteSpec> specs, RouteTable previous)
    {
        var old = previous._specs;
        int oldCount = old.Count, newCount = specs.Count, shorter = Math.Min(oldCount, newCount);
        var prefix = 0;
        while (prefix < shorter && ReferenceEquals(old[prefix], specs[prefix]))
        {
            prefix++;
        }
        var suffix = 0;
        while (suffix < shorter - prefix && ReferenceEquals(old[oldCount - 1 - suffix], specs[newCount - 1 - suffix]))
        {
            suffix++;
        }
        var removedEnd = oldCount - suffix;
        var addedCount = newCount - prefix - suffix;
        var changed = removedEnd - prefix + addedCount;
        if (changed > Math.Max(16, newCount / 8) || (suffix > 0 && removedEnd - prefix != addedCount) || previous.SlotCount > newCount + (newCount / 4) + 16)
        {
            return null;
        }

        var added = new List<CompiledRoute>(addedCount);
        var regexes = new Dictionary<string, Regex?>(StringComparer.Ordinal);
        for (var i = prefix; i < prefix + addedCount; i++)
        {
            if (specs[i] is { } spec && TryCompileRoute(spec, i, regexes) is { } route)
            {
                added.Add(route);
            }
        }
        added.Sort(ComparePriority);

        var removed = new HashSet<CompiledRoute>(ReferenceEqualityComparer.Instance);
        var merged = new List<CompiledRoute>(previous._routes.Length + added.Count);
        var next = 0;
        foreach (var route in previous._routes)
        {
            if (route.Index >= prefix && route.Index < removedEnd)
            {
                removed.Add(route);
                continue;
            }
            while (next < added.Count && ComparePriority(added[next], route) < 0)
            {
                merged.Add(added[next++]);
            }
            merged.Add(route);
        }
        while (next < added.Count)
        {
            merged.Add(added[next++]);
        }
        var routes = merged.ToArray();

        // Slots of removed routes go to added ones first.
        var free = new Stack<int>(previous._freeSlots);
        foreach (var route in removed)
        {
            free.Push(route.Slot);
        }
        var slotCount = previous.SlotCount;
        var addedSet = new HashSet<CompiledRoute>(added, ReferenceEqualityComparer.Instance);
        for (var i = 0; i < routes.Length && addedSet.Count > 0; i++)
        {
            if (addedSet.Remove(routes[i]))
            {
                routes[i].PriorityIndex = i;
                routes[i].Slot = free.Count > 0 ? free.Pop() : slotCount++;
            }
        }

        // Only the host levels a removed or added route is on are built again.
        var exactHosts = previous._exactMap;
        var wildcardHosts = previous._wildcardMap;
        var anyHost = previous._anyHost;
        var levels = new HashSet<(bool Wildcard, string Key)>();
        var anyTouched = false;
        foreach (var route in removed.Concat(added))
        {
            anyTouched |= AddLevels(route, levels);
        }
        if (levels.Count > 0)
        {
            exactHosts = new Dictionary<string, HostBucket>(previous._exactMap, StringComparer.OrdinalIgnoreCase);
            wildcardHosts = new Dictionary<string, HostBucket>(previous._wildcardMap, StringComparer.OrdinalIgnoreCase);
            foreach (var (wildcard, key) in levels)
            {
                var map = wildcard ? wildcardHosts : exactHosts;
                var list = Rebuild(map.GetValueOrDefault(key), removed, added, r => HasLevel(r, wildcard, key));
                if (list.Count == 0)
                {
                    map.Remove(key);
                }
                else
                {
                    map[key] = HostBucket.Create(wildcard ? "*." + key : key, list);
                }
            }
        }
        if (anyTouched)
        {
            var list = Rebuild(previous._anyHost, removed, added, IsAnyHost);
            anyHost = list.Count == 0 ? null : HostBucket.Create(AnyHostLevel, list);
        }
        return new RouteTable(routes, exactHosts, wildcardHosts, anyHost, specs, slotCount, [.. free]);
    }

    private static List<CompiledRoute> Rebuild(HostBucket? bucket, HashSet<CompiledRoute> removed, List<CompiledRoute> added, Func<CompiledRoute, bool> onLevel)
    {
        var list = new List<CompiledRoute>();
        foreach (var route in bucket?.Routes ?? [])
        {
            if (!removed.Contains(route))
            {
                list.Add(route);
            }
        }
        list.AddRange(added.Where(onLevel));
        list.Sort(ComparePriority);
        return list;
    }

    private static bool IsAnyHost(CompiledRoute route) => route.Hosts.Count == 0 && (route.Spec.Match?.Hosts?.Count ?? 0) == 0;

    private static bool HasLevel(CompiledRoute route, bool wildcard, string key)
    {
        foreach (var host in route.Hosts)
        {
            if (HostNames.IsWildcard(host) == wildcard && string.Equals(wildcard ? host[2..] : host, key, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Adds the host levels of <paramref name="route"/> to <paramref name="levels"/>; true when it is on the any-host level.</summary>
    private static bool AddLevels(CompiledRoute route, HashSet<(bool Wildcard, string Key)> levels)
    {
        if (route.Hosts.Count == 0)
        {
            return IsAnyHost(route);
        }
        foreach (var host in route.Hosts)
        {
            var wildcard = HostNames.IsWildcard(host);
            levels.Add((wildcard, (wildcard ? host[2..] : host).ToLowerInvariant()));
        }
        return false;
    }

    /// <summary>
    /// The route that serves a request for <paramref name="host"/> and <paramref name="path"/>, or null.
    /// </summary>
    /// <param name="host">The <c>Host</c> header (or absolute-form URL host), with or without a port, any case.</param>
    /// <param name="path">The decoded request path without the query string; empty is read as <c>/</c>.</param>
    public CompiledRoute? Match(ReadOnlySpan<char> host, ReadOnlySpan<char> path)
    {
        if (path.IsEmpty)
        {
            path = "/";
        }
        var h = RequestHost.Normalize(host);
        if (_hasExactHosts && _exactHosts.TryGetValue(h, out var exact) && exact.Match(path) is { } byHost)
        {
            return byHost;
        }
        if (_hasWildcardHosts)
        {
            // Suffixes after each dot, longest first; a dot in front is skipped so a wildcard always covers a
            // non-empty label.
            var dot = h.IsEmpty ? -1 : h[1..].IndexOf('.') + 1;
            while (dot > 0)
            {
                var suffix = h[(dot + 1)..];
                if (_wildcardHosts.TryGetValue(suffix, out var bucket) && bucket.Match(path) is { } byWildcard)
                {
                    return byWildcard;
                }
                var next = suffix.IndexOf('.');
                dot = next < 0 ? -1 : dot + 1 + next;
            }
        }
        return _anyHost?.Match(path);
    }

    /// <summary>
    /// Matches like <see cref="Match"/> and reports every candidate with the reason it won or lost. Allocates;
    /// meant for the admin API and the CLI, not for the request path.
    /// </summary>
    public RouteExplanation Explain(string? host, string? path)
    {
        var p = string.IsNullOrEmpty(path) ? "/" : path;
        var h = RequestHost.Normalize(host).ToString();
        var candidates = new List<RouteCandidate>();
        foreach (var bucket in LevelsFor(h))
        {
            if (ExplainLevel(bucket, p, candidates) is { } winner)
            {
                return new RouteExplanation(winner, h.ToLowerInvariant(), p, bucket.Level, candidates);
            }
        }
        return new RouteExplanation(null, h.ToLowerInvariant(), p, null, candidates);
    }

    private IEnumerable<HostBucket> LevelsFor(string host)
    {
        if (_hasExactHosts && _exactHosts.TryGetValue(host, out var exact))
        {
            yield return exact;
        }
        if (_hasWildcardHosts)
        {
            for (var dot = host.Length < 2 ? -1 : host.IndexOf('.', 1); dot > 0; dot = host.IndexOf('.', dot + 1))
            {
                if (_wildcardHosts.TryGetValue(host.AsSpan(dot + 1), out var bucket))
                {
                    yield return bucket;
                }
            }
        }
        if (_anyHost is not null)
        {
            yield return _anyHost;
        }
    }

    private static CompiledRoute? ExplainLevel(HostBucket bucket, string path, List<RouteCandidate> candidates)
    {
        // The bucket's own matcher decides, so the explanation can never disagree with Match.
        var winner = bucket.Match(path);
        foreach (var route in bucket.Routes)
        {
            var matched = route.MatchesPath(path, out var timedOut);
            string reason;
            if (!route.Enabled)
            {
                reason = "disabled: never matches";
                matched = false;
            }
            else if (ReferenceEquals(route, winner))
            {
                reason = $"selected: {DescribePath(route)} matches '{path}' and is the first match at host level '{bucket.Level}' "
                    + "(exact path > deepest prefix > regex in declaration order > any path; ties by route id)";
            }
            else if (timedOut)
            {
                reason = $"regex '{route.PathValue}' timed out on '{path}': counted as no match";
            }
            else if (!matched)
            {
                reason = $"{DescribePath(route)} does not match '{path}'";
            }
            else
            {
                reason = $"{DescribePath(route)} matches '{path}', but '{winner!.Id}' ({DescribePath(winner)}) takes precedence: {WhyFirst(winner, route)}";
            }
            candidates.Add(new RouteCandidate(route, bucket.Level, matched, ReferenceEquals(route, winner), reason));
        }
        return winner;
    }

    private static string DescribePath(CompiledRoute route) => route.PathKind switch
    {
        RoutePathKinds.Any => "no path condition",
        _ => $"{route.PathKind} '{route.PathValue}'",
    };

    private static string WhyFirst(CompiledRoute winner, CompiledRoute loser) =>
        winner.Rank != loser.Rank ? $"{winner.PathKind} beats {loser.PathKind}"
        : winner.Rank == CompiledRoute.PrefixRank && winner.Depth != loser.Depth ? $"deeper prefix ({winner.Depth} segments against {loser.Depth})"
        : winner.Rank == CompiledRoute.RegexRank ? "declared earlier"
        : "lower route id (ordinal)";

    private static CompiledRoute? TryCompileRoute(RouteSpec spec, int index, Dictionary<string, Regex?> regexes)
    {
        var match = spec.Match ?? new RouteMatchSpec();
        var hosts = new List<string>();
        foreach (var configured in match.Hosts ?? [])
        {
            if (string.IsNullOrWhiteSpace(configured))
            {
                continue;
            }
            var host = HostNames.Normalize(configured);
            if (host.Length > 1 && host[^1] == '.')
            {
                host = host[..^1];
            }
            if ((!HostNames.IsWildcard(host) || host.Length > 2) && !hosts.Contains(host, StringComparer.Ordinal))
            {
                hosts.Add(host);
            }
        }

        var hostArray = hosts.ToArray();
        if (match.Path is not { } path)
        {
            return new CompiledRoute(spec, index, hostArray, RoutePathKinds.Any, null, null);
        }
        var value = path.Value ?? "";
        switch (path.Type)
        {
            case PathMatchTypes.Exact:
                return new CompiledRoute(spec, index, hostArray, RoutePathKinds.Exact, value, null);
            case PathMatchTypes.Prefix:
                return new CompiledRoute(spec, index, hostArray, RoutePathKinds.Prefix, value, null);
            case PathMatchTypes.Regex:
                if (!regexes.TryGetValue(value, out var regex))
                {
                    regexes[value] = regex = PathRegex.TryCreate(value, out var created, out _) ? created : null;
                }
                return regex is null ? null : new CompiledRoute(spec, index, hostArray, RoutePathKinds.Regex, value, regex);
            default:
                return null;
        }
    }

    private static int ComparePriority(CompiledRoute a, CompiledRoute b)
    {
        var c = b.Rank.CompareTo(a.Rank);
        if (c != 0)
        {
            return c;
        }
        c = b.Depth.CompareTo(a.Depth);
        if (c != 0)
        {
            return c;
        }
        if (a.Rank != CompiledRoute.RegexRank)
        {
            c = string.CompareOrdinal(a.Id, b.Id);
            if (c != 0)
            {
                return c;
            }
        }
        // Regexes keep declaration order; for the others this only separates duplicate ids, which validation rejects.
        return a.Index.CompareTo(b.Index);
    }
}
