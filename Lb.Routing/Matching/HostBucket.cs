namespace Lb.Routing.Matching;

/// <summary>
/// The routes of one host level (one exact host, one wildcard suffix, or "any host"), arranged so that a path
/// is matched with a handful of dictionary lookups instead of a scan.
/// </summary>
internal sealed class HostBucket
{
    private readonly Dictionary<string, CompiledRoute>.AlternateLookup<ReadOnlySpan<char>> _exact;
    private readonly bool _hasExact;
    private readonly Dictionary<string, CompiledRoute>.AlternateLookup<ReadOnlySpan<char>> _prefixes;
    private readonly bool _hasPrefixes;
    private readonly int _longestPrefixBase;
    private readonly CompiledRoute[] _regexes;
    private readonly CompiledRoute? _any;

    private HostBucket(string level, CompiledRoute[] routes, Dictionary<string, CompiledRoute> exact, Dictionary<string, CompiledRoute> prefixes, CompiledRoute[] regexes, CompiledRoute? any)
    {
        Level = level;
        Routes = routes;
        _hasExact = exact.Count > 0;
        _exact = exact.GetAlternateLookup<ReadOnlySpan<char>>();
        _hasPrefixes = prefixes.Count > 0;
        _prefixes = prefixes.GetAlternateLookup<ReadOnlySpan<char>>();
        _longestPrefixBase = prefixes.Count == 0 ? -1 : prefixes.Keys.Max(k => k.Length);
        _regexes = regexes;
        _any = any;
    }

    /// <summary>How <see cref="RouteExplanation"/> names this level: the host, <c>*.suffix</c> or <c>*</c>.</summary>
    public string Level { get; }

    /// <summary>Every route of the level, disabled ones included, in priority order (for explanations).</summary>
    public CompiledRoute[] Routes { get; }

    /// <summary>Builds a bucket from routes given in priority order.</summary>
    public static HostBucket Create(string level, List<CompiledRoute> routesInPriorityOrder)
    {
        var exact = new Dictionary<string, CompiledRoute>(StringComparer.Ordinal);
        var prefixes = new Dictionary<string, CompiledRoute>(StringComparer.Ordinal);
        var regexes = new List<CompiledRoute>();
        CompiledRoute? any = null;
        foreach (var route in routesInPriorityOrder)
        {
            if (!route.Enabled)
            {
                continue;
            }
            // Routes arrive in priority order, so the first route of a key is the one that wins it;
            // later ones with the same key can never match and are left out.
            switch (route.Rank)
            {
                case CompiledRoute.ExactRank:
                    exact.TryAdd(route.PathValue!, route);
                    break;
                case CompiledRoute.PrefixRank:
                    prefixes.TryAdd(route.PrefixBase, route);
                    break;
                case CompiledRoute.RegexRank:
                    regexes.Add(route);
                    break;
                default:
                    any ??= route;
                    break;
            }
        }
        return new HostBucket(level, [.. routesInPriorityOrder], exact, prefixes, [.. regexes], any);
    }

    /// <summary>The winning route of this level for <paramref name="path"/>, or null to fall through.</summary>
    public CompiledRoute? Match(ReadOnlySpan<char> path)
    {
        if (_hasExact && _exact.TryGetValue(path, out var exact))
        {
            return exact;
        }
        if (_hasPrefixes && MatchPrefix(path) is { } prefix)
        {
            return prefix;
        }
        foreach (var route in _regexes)
        {
            if (route.MatchesPath(path, out _))
            {
                return route;
            }
        }
        return _any;
    }

    /// <summary>
    /// A prefix matches when the path equals its base or continues with <c>/</c> after it, so the only bases
    /// that can match are the path itself and the path cut before each of its slashes. Trying those from the
    /// longest down finds the deepest matching prefix first: a longer matching base always has more segments.
    /// </summary>
    private CompiledRoute? MatchPrefix(ReadOnlySpan<char> path)
    {
        var candidate = path;
        while (true)
        {
            if (candidate.Length <= _longestPrefixBase && _prefixes.TryGetValue(candidate, out var route))
            {
                return route;
            }
            var slash = candidate.LastIndexOf('/');
            if (slash < 0)
            {
                return null;
            }
            candidate = candidate[..slash];
        }
    }
}
