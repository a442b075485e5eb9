using System.Globalization;
using Lb.Core.Spec;

/// <summary>
/// The scale scenario's configuration: 10,000 routes (one host per ten routes; exact, prefix and regex paths) using
/// 500 distinct regexes and 1,000 pools of three targets each. <see cref="Change"/> alters one route only.
/// </summary>
internal static class ScaleConfig
{
    public const int Routes = 10_000;
    public const int DistinctRegexes = 500;
    public const int Pools = 1_000;

    public const int ChangedIndex = 5000;

    /// <summary>Route 5000 as <see cref="Create"/> has it for <paramref name="changedPort"/>.</summary>
    public static RouteSpec ChangedRoute(int changedPort) => new()
    {
        Id = string.Create(CultureInfo.InvariantCulture, $"route-{ChangedIndex}"),
        Enabled = true,
        UpstreamPool = string.Create(CultureInfo.InvariantCulture, $"pool-{ChangedIndex % Pools}"),
        Match = new RouteMatchSpec
        {
            Hosts = [string.Create(CultureInfo.InvariantCulture, $"svc{ChangedIndex / 10}.example.com")],
            Path = new PathMatchSpec { Type = PathMatchTypes.Prefix, Value = string.Create(CultureInfo.InvariantCulture, $"/changed/{changedPort}/") },
        },
    };

    public static DesiredState Create(int changedPort)
    {
        var inv = CultureInfo.InvariantCulture;
        var routes = new RouteSpec[Routes];
        var regexRoutes = 0;
        for (var i = 0; i < Routes; i++)
        {
            var host = string.Create(inv, $"svc{i / 10}.example.com");
            var (type, value) = (i % 10) switch
            {
                0 => (PathMatchTypes.Exact, string.Create(inv, $"/r{i}/login")),
                // Two of ten routes use a regex; 2,000 regex routes share 500 patterns.
                3 or 7 => (PathMatchTypes.Regex, string.Create(inv, $@"^/t{regexRoutes++ % DistinctRegexes}/[a-z]+/\d+\.(png|jpg)$")),
                _ => (PathMatchTypes.Prefix, string.Create(inv, $"/p{i % 10}/x{i}/")),
            };
            routes[i] = new RouteSpec
            {
                Id = string.Create(inv, $"route-{i}"),
                Enabled = true,
                UpstreamPool = string.Create(inv, $"pool-{i % Pools}"),
                Match = new RouteMatchSpec { Hosts = [host], Path = new PathMatchSpec { Type = type, Value = value } },
            };
        }
        // The one change: route 5000's path (prefix) moves with each write.
        routes[ChangedIndex] = ChangedRoute(changedPort);
        var pools = new Dictionary<string, UpstreamPoolSpec>(StringComparer.Ordinal);
        for (var p = 0; p < Pools; p++)
        {
            var b = 10_000 + p * 3;
            pools[string.Create(inv, $"pool-{p}")] = new UpstreamPoolSpec
            {
                Upstreams = [string.Create(inv, $"127.0.0.1:{b}"), string.Create(inv, $"127.0.0.1:{b + 1}"), string.Create(inv, $"127.0.0.1:{b + 2}")],
            };
        }
        return new DesiredState { Config = new ProxyConfig { Routes = routes, UpstreamPools = pools } };
    }
}
