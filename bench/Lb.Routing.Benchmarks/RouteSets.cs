using System.Globalization;
using Lb.Core.Spec;

namespace Lb.Routing.Benchmarks;

/// <summary>
/// Synthetic configurations shaped like a busy multi-tenant proxy: ten routes per exact host (exact paths,
/// shallow and deep prefixes), one wildcard route per host, regexes on every other wildcard (one shared pattern, or a distinct one each), and two
/// catch-alls.
/// </summary>
internal static class RouteSets
{
    public static ProxyConfig Create(int count, bool distinctRegexes = false)
    {
        var routes = new RouteSpec[count];
        for (var i = 0; i < count; i++)
        {
            var host = $"svc{i / 10}.example.com";
            var first = i / 10 * 10;
            routes[i] = i switch
            {
                _ when i == count - 1 => Route("catch-all", [], PathMatchTypes.Prefix, "/"),
                _ when i == count - 2 => Route("health", [], PathMatchTypes.Exact, "/health"),
                _ => (i % 10) switch
                {
                    0 => Route(Id("login", i), [host], PathMatchTypes.Exact, $"/r{first}/login"),
                    1 => Route(Id("app", i), [host], PathMatchTypes.Prefix, $"/r{first}/"),
                    2 => Route(Id("api", i), [host], PathMatchTypes.Prefix, $"/r{first}/api/v1/"),
                    8 => Route(Id("exact", i), [host], PathMatchTypes.Exact, $"/e{i}"),
                    9 => (i / 10) % 2 == 0
                        ? Route(Id("png", i), [$"*.t{i / 10}.example.com"], PathMatchTypes.Regex, distinctRegexes ? $@"^/t{i}/.*\.png$" : @"\.png$")
                        : Route(Id("tenant", i), [$"*.t{i / 10}.example.com"], PathMatchTypes.Prefix, "/"),
                    _ => Route(Id("filler", i), [host], PathMatchTypes.Prefix, $"/p{i}/x/"),
                },
            };
        }
        return new ProxyConfig { Routes = routes };
    }

    /// <summary>A mix of hits at every level plus fall-throughs, against the middle host of the set.</summary>
    public static (string Host, string Path)[] Requests(int count)
    {
        var h = count / 10 / 2;
        var j = h * 10;
        var inv = CultureInfo.InvariantCulture;
        return
        [
            (string.Create(inv, $"svc{h}.example.com:8080"), string.Create(inv, $"/r{j}/api/v1/orders/42")),
            (string.Create(inv, $"SVC{h}.Example.com"), string.Create(inv, $"/r{j}/login")),
            (string.Create(inv, $"svc{h}.example.com"), string.Create(inv, $"/r{j}/apix")),
            (string.Create(inv, $"a.b.t{h | 1}.example.com"), "/x/y"),
            (string.Create(inv, $"a.t{h & ~1}.example.com"), "/img/logo.png"),
            ("unknown.test", "/health"),
            (string.Create(inv, $"svc{h}.example.com"), "/nothing/here"),
            ("[::1]:8080", "/"),
        ];
    }

    private static string Id(string name, int i) => string.Create(CultureInfo.InvariantCulture, $"{name}-{i}");

    private static RouteSpec Route(string id, string[] hosts, string type, string value) => new()
    {
        Id = id,
        Enabled = true,
        UpstreamPool = "pool",
        Match = new RouteMatchSpec { Hosts = hosts, Path = new PathMatchSpec { Type = type, Value = value } },
    };
}
