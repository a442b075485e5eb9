using Lb.Core.Spec;
using static Lb.Routing.Tests.Routes;

namespace Lb.Routing.Tests;

public sealed class RouteTableTests
{
    [Fact]
    public void Routes_are_listed_in_contract_priority_order()
    {
        var table = Table(
            Any("any"),
            Regex("debug", "^/debug"),
            Prefix("users", "/users/"),
            Prefix("api", "/api/"),
            Prefix("admin", "/api/admin/"),
            Exact("login", "/login"));

        Assert.Equal(["login", "admin", "api", "users", "debug", "any"], table.Routes.Select(r => r.Id));
        Assert.Equal([0, 1, 2, 3, 4, 5], table.Routes.Select(r => r.PriorityIndex));
        Assert.Equal([5, 4, 3, 2, 1, 0], table.Routes.Select(r => r.Index));
    }

    [Fact]
    public void Regexes_keep_declaration_order_in_the_route_list()
    {
        var table = Table(Regex("z", "z"), Regex("a", "a"), Regex("m", "m"));

        Assert.Equal(["z", "a", "m"], table.Routes.Select(r => r.Id));
    }

    [Fact]
    public void Prefix_depth_counts_empty_pieces()
    {
        var table = Table(Prefix("two", "/a/b/"), Prefix("three", "/a//b/"), Prefix("root", "/"));

        Assert.Equal(["three", "two", "root"], table.Routes.Select(r => r.Id));
    }

    [Fact]
    public void Compiled_route_carries_runtime_view_fields()
    {
        var spec = Prefix("api", "/api/", "Shop.Example.COM", "*.Example.com", "[FD00::1]") with { UpstreamPool = "backends" };
        var route = Assert.Single(Table(spec, (Any("sticky") with { Algorithm = Algorithms.StickyCookie }).Disabled()).Routes, r => r.Id == "api");

        Assert.Equal(["shop.example.com", "*.example.com", "fd00::1"], route.Hosts);
        Assert.Equal(RoutePathKinds.Prefix, route.PathKind);
        Assert.Equal("/api/", route.PathValue);
        Assert.Equal(Algorithms.RoundRobin, route.Algorithm);
        Assert.Equal("backends", route.UpstreamPool);
        Assert.Same(spec, route.Spec);
        Assert.True(route.Enabled);
    }

    [Fact]
    public void Disabled_routes_are_listed_but_never_match()
    {
        var table = Table(Any("off").Disabled());

        var route = Assert.Single(table.Routes);
        Assert.False(route.Enabled);
        Assert.Equal(RoutePathKinds.Any, route.PathKind);
        Assert.Null(route.PathValue);
        Assert.Null(table.Match("any.test", "/"));
    }

    [Fact]
    public void Route_with_an_invalid_regex_is_skipped()
    {
        var table = Table(Regex("broken", "(unclosed"), Regex("lookahead", "(?=x)"), Any("fallback"));

        Assert.Equal(["fallback"], table.Routes.Select(r => r.Id));
        Assert.Equal("fallback", table.Match("h", "/(unclosed")?.Id);
    }

    [Fact]
    public void Route_with_an_unknown_path_type_is_skipped()
    {
        var table = Table(Route("glob", [], "glob", "/*"));

        Assert.Empty(table.Routes);
    }

    [Fact]
    public void Route_whose_hosts_are_all_unusable_matches_nothing_rather_than_everything()
    {
        var table = Table(Route("blank", ["", "  "], null, null));

        Assert.Single(table.Routes);
        Assert.Null(table.Match("any.test", "/"));
    }

    [Fact]
    public void Odd_input_does_not_throw()
    {
        var config = new ProxyConfig
        {
            Routes =
            [
                null!,
                new RouteSpec { Id = null!, Enabled = true, Match = null!, UpstreamPool = null! },
                new RouteSpec { Id = "nulls", Enabled = true, Match = new RouteMatchSpec { Hosts = null!, Path = new PathMatchSpec { Type = "exact", Value = null! } } },
            ],
        };

        var table = RouteTable.Compile(config);

        Assert.Equal(2, table.Routes.Count);
        Assert.Equal("", table.Match("h", "/")!.Id);
    }

    [Fact]
    public void Empty_table_matches_nothing()
    {
        Assert.Empty(RouteTable.Empty.Routes);
        Assert.Null(RouteTable.Empty.Match("example.com", "/"));
        Assert.Null(RouteTable.Empty.Explain("example.com", "/").Matched);
    }

    [Fact]
    public void Route_listed_under_several_hosts_matches_each_of_them()
    {
        var table = Table(Exact("login", "/login", "a.test", "*.b.test"));

        Assert.Equal("login", table.Match("a.test", "/login")?.Id);
        Assert.Equal("login", table.Match("x.b.test", "/login")?.Id);
        Assert.Null(table.Match("b.test", "/login"));
    }

    [Fact]
    public void Query_string_is_not_part_of_the_path_given_to_match()
    {
        // Callers pass the path without the query; a '?' that reaches the matcher is an ordinary character.
        var table = Table(Exact("search", "/search"));

        Assert.Null(table.Match("h", "/search?q=1"));
    }

    [Fact]
    public void Match_with_ten_thousand_routes_finds_the_most_specific_route()
    {
        // Speed at this size is measured in bench/Lb.Routing.Benchmarks (MatchBenchmarks), not asserted here.
        var routes = Enumerable.Range(0, 10_000).Select(i => (i % 4) switch
        {
            0 => Exact($"e{i}", $"/svc{i}/login", $"h{i % 500}.example.com"),
            1 => Prefix($"p{i}", $"/svc{i}/api/", $"h{i % 500}.example.com"),
            2 => Prefix($"w{i}", $"/svc{i}/", $"*.w{i % 100}.example.com"),
            _ => Exact($"a{i}", $"/svc{i}"),
        }).ToArray();
        var table = Table(routes);

        Assert.Equal("p9997", table.Match("H497.example.com:443", "/svc9997/api/orders/17")?.Id);
        Assert.Equal("e9996", table.Match("h496.example.com", "/svc9996/login")?.Id);
        Assert.Equal("w9998", table.Match("x.w98.example.com", "/svc9998/anything")?.Id);
        Assert.Equal("a9999", table.Match("unknown.test", "/svc9999")?.Id);
        Assert.Null(table.Match("h497.example.com", "/svc9996/login")); // right path, wrong host
    }

    [Fact]
    public void Regex_routes_are_compiled_with_the_match_timeout_and_the_linear_engine()
    {
        var table = Table(Regex("re", "^/item/[0-9]+$"));

        var regex = Assert.Single(table.Routes).PathRegex!;
        Assert.Equal(Lb.Core.Spec.PathRegex.MatchTimeout, regex.MatchTimeout);
        Assert.True(regex.Options.HasFlag(System.Text.RegularExpressions.RegexOptions.NonBacktracking));
        Assert.Equal("re", table.Match("h", "/item/42")?.Id);
    }
}
