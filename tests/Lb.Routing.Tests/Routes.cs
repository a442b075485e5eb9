using Lb.Core.Spec;

namespace Lb.Routing.Tests;

/// <summary>Short-hand for building route configurations in tests.</summary>
internal static class Routes
{
    public static RouteSpec Exact(string id, string value, params string[] hosts) => Route(id, hosts, PathMatchTypes.Exact, value);

    public static RouteSpec Prefix(string id, string value, params string[] hosts) => Route(id, hosts, PathMatchTypes.Prefix, value);

    public static RouteSpec Regex(string id, string value, params string[] hosts) => Route(id, hosts, PathMatchTypes.Regex, value);

    public static RouteSpec Any(string id, params string[] hosts) => Route(id, hosts, null, null);

    public static RouteSpec Route(string id, string[] hosts, string? type, string? value, bool enabled = true) => new()
    {
        Id = id,
        Enabled = enabled,
        UpstreamPool = "pool",
        Match = new RouteMatchSpec
        {
            Hosts = hosts,
            Path = type is null ? null : new PathMatchSpec { Type = type, Value = value ?? "" },
        },
    };

    public static RouteSpec Disabled(this RouteSpec route) => route with { Enabled = false };

    public static ProxyConfig Config(params RouteSpec[] routes) => new() { Routes = routes };

    public static RouteTable Table(params RouteSpec[] routes) => RouteTable.Compile(Config(routes));
}
