using System.Text.RegularExpressions;
using Lb.Core.Spec;

namespace Lb.Routing.Tests;

/// <summary>
/// The documented precedence written as plainly as possible: brute force over every route, allocating freely.
/// The property test holds <see cref="RouteTable.Match"/> to it.
/// </summary>
internal static class ReferenceMatcher
{
    /// <summary>The config index of the winning route, or null.</summary>
    public static int? Match(ProxyConfig config, string host, string path)
    {
        if (path.Length == 0)
        {
            path = "/";
        }
        var h = NormalizeRequestHost(host);
        var routes = config.Routes
            .Select((spec, index) => (Spec: spec, Index: index, Hosts: spec.Match.Hosts.Select(NormalizeConfiguredHost).ToList()))
            .Where(r => r.Spec.Enabled && Compiles(r.Spec))
            .ToList();

        var levels = new List<Func<List<string>, bool>> { hosts => hosts.Contains(h) };
        var suffixes = routes.SelectMany(r => r.Hosts)
            .Where(x => x.StartsWith("*.", StringComparison.Ordinal))
            .Select(x => x[2..])
            .Distinct()
            .Where(s => h.EndsWith("." + s, StringComparison.Ordinal) && h.Length > s.Length + 1)
            .OrderByDescending(s => s.Length);
        foreach (var suffix in suffixes)
        {
            levels.Add(hosts => hosts.Contains("*." + suffix));
        }
        levels.Add(hosts => hosts.Count == 0);

        foreach (var level in levels)
        {
            var best = routes
                .Where(r => level(r.Hosts) && PathMatches(r.Spec.Match.Path, path))
                .OrderByDescending(r => Rank(r.Spec.Match.Path))
                .ThenByDescending(r => Depth(r.Spec.Match.Path))
                .ThenBy(r => r.Spec.Match.Path?.Type == PathMatchTypes.Regex ? "" : r.Spec.Id, StringComparer.Ordinal)
                .ThenBy(r => r.Index)
                .Select(r => (int?)r.Index)
                .FirstOrDefault();
            if (best is not null)
            {
                return best;
            }
        }
        return null;
    }

    private static string NormalizeRequestHost(string host)
    {
        var h = HostPort.TrySplit(host, out var name, out var port) && name.Length > 0 && port.Length > 0 ? name : host;
        if (h.Length > 1 && h.StartsWith('[') && h.EndsWith(']'))
        {
            h = h[1..^1];
        }
        if (h.Length > 1 && h.EndsWith('.'))
        {
            h = h[..^1];
        }
        return h.ToLowerInvariant();
    }

    private static string NormalizeConfiguredHost(string host)
    {
        var h = host.ToLowerInvariant();
        return h.StartsWith('[') && h.EndsWith(']') ? h[1..^1] : h;
    }

    private static bool Compiles(RouteSpec spec) =>
        spec.Match.Path is not { Type: PathMatchTypes.Regex } p || PathRegex.TryCreate(p.Value, out _, out _);

    private static bool PathMatches(PathMatchSpec? spec, string path)
    {
        if (spec is null)
        {
            return true;
        }
        switch (spec.Type)
        {
            case PathMatchTypes.Exact:
                return path == spec.Value;
            case PathMatchTypes.Prefix:
                if (spec.Value == "/")
                {
                    return path.StartsWith('/');
                }
                var b = spec.Value.TrimEnd('/');
                return path == b || path.StartsWith(b + "/", StringComparison.Ordinal);
            default:
                return new Regex(spec.Value, PathRegex.Options).IsMatch(path);
        }
    }

    private static int Rank(PathMatchSpec? spec) => spec?.Type switch
    {
        PathMatchTypes.Exact => 4,
        PathMatchTypes.Prefix => 3,
        PathMatchTypes.Regex => 2,
        _ => 1,
    };

    private static int Depth(PathMatchSpec? spec)
    {
        if (spec?.Type != PathMatchTypes.Prefix)
        {
            return 0;
        }
        var core = spec.Value.Trim('/');
        return core.Length == 0 ? 0 : core.Split('/').Length;
    }
}
