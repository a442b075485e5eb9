using static Lb.Routing.Tests.Routes;

namespace Lb.Routing.Tests;

/// <summary>The precedence rules of the package README, one row per rule.</summary>
public sealed class PrecedenceSpecTests
{
    private static readonly RouteTable Table = Routes.Table(
        Exact("shop-login", "/login", "shop.example.com"),
        Prefix("shop-api", "/api/", "shop.example.com"),
        Prefix("shop-api-admin", "/api/admin/", "shop.example.com"),
        Exact("shop-api-admin-x", "/api/admin/x", "shop.example.com"),
        Regex("shop-png-img", @"^/img/.*\.png$", "shop.example.com"),
        Regex("a-shop-png", @"\.png$", "shop.example.com"),
        Exact("shop-disabled", "/disabled", "shop.example.com").Disabled(),
        Prefix("wild-a", "/", "*.a.example.com"),
        Prefix("wild", "/", "*.example.com"),
        Exact("wild-api-x", "/api/x", "*.example.com"),
        Prefix("catch-all", "/"),
        Exact("catch-health", "/health"),
        Exact("mixed-case", "/v", "API.Example.COM"),
        Any("ipv6", "[::1]"),
        Exact("ipv4", "/ip", "10.0.0.1"),
        Any("tie-b", "tie.test"),
        Any("tie-a", "tie.test"),
        Exact("tie-z-exact", "/same", "tie.test"),
        Exact("tie-m-exact", "/same", "tie.test"),
        Prefix("tie-z-prefix", "/p/", "tie.test"),
        Prefix("tie-m-prefix", "/p//", "tie.test"),
        Prefix("root-only", "/", "root.test"));

    public static TheoryData<string, string, string, string?> Cases => new()
    {
        { "Exact_host_and_exact_path_match", "shop.example.com", "/login", "shop-login" },
        { "Host_compares_case_insensitively", "SHOP.Example.COM", "/login", "shop-login" },
        { "Configured_host_is_case_insensitive_too", "api.example.com", "/v", "mixed-case" },
        { "Port_is_ignored", "shop.example.com:8080", "/login", "shop-login" },
        { "One_trailing_dot_is_ignored", "shop.example.com.", "/login", "shop-login" },
        { "Trailing_dot_and_port_are_both_ignored", "Shop.Example.Com.:443", "/login", "shop-login" },
        { "Exact_path_is_case_sensitive", "shop.example.com", "/LOGIN", "wild" },
        { "Exact_path_does_not_ignore_a_trailing_slash", "shop.example.com", "/login/", "wild" },
        { "Prefix_matches_its_base_without_trailing_slash", "shop.example.com", "/api", "shop-api" },
        { "Prefix_matches_its_value", "shop.example.com", "/api/", "shop-api" },
        { "Prefix_matches_below_its_value", "shop.example.com", "/api/v1/orders", "shop-api" },
        { "Prefix_matches_only_on_segment_boundaries", "shop.example.com", "/apix", "wild" },
        { "Deeper_prefix_beats_shallower_prefix", "shop.example.com", "/api/admin/users", "shop-api-admin" },
        { "Deeper_prefix_matches_its_base", "shop.example.com", "/api/admin", "shop-api-admin" },
        { "Deeper_prefix_respects_segment_boundaries", "shop.example.com", "/api/administrator", "shop-api" },
        { "Exact_path_beats_longer_prefix", "shop.example.com", "/api/admin/x", "shop-api-admin-x" },
        { "Prefix_beats_regex", "shop.example.com", "/api/logo.png", "shop-api" },
        { "Regexes_are_tried_in_declaration_order_not_by_id", "shop.example.com", "/img/logo.png", "shop-png-img" },
        { "Later_regex_matches_when_earlier_does_not", "shop.example.com", "/logo.png", "a-shop-png" },
        { "Regex_search_is_unanchored", "shop.example.com", "/deep/x.png", "a-shop-png" },
        { "Disabled_route_never_matches", "shop.example.com", "/disabled", "wild" },
        { "No_match_at_exact_host_falls_through_to_wildcard", "shop.example.com", "/other", "wild" },
        { "Longer_wildcard_suffix_beats_shorter", "x.a.example.com", "/", "wild-a" },
        { "Wildcard_needs_a_label_in_front", "a.example.com", "/", "wild" },
        { "Wildcard_does_not_match_its_apex", "example.com", "/", "catch-all" },
        { "Wildcard_matches_several_labels_deep", "p.q.r.example.com", "/api/x", "wild-api-x" },
        { "Host_specificity_beats_path_specificity", "p.q.a.example.com", "/api/x", "wild-a" },
        { "Wildcard_host_compares_case_insensitively", "X.A.EXAMPLE.COM:80", "/", "wild-a" },
        { "Route_without_hosts_matches_any_host", "unknown.test", "/anything", "catch-all" },
        { "Exact_path_beats_prefix_among_routes_without_hosts", "unknown.test", "/health", "catch-health" },
        { "Missing_host_matches_only_routes_without_hosts", "", "/health", "catch-health" },
        { "Empty_path_is_read_as_root", "unknown.test", "", "catch-all" },
        { "Prefix_root_does_not_match_a_path_without_leading_slash", "unknown.test", "*", null },
        { "Bracketed_IPv6_with_port_matches_bare_IPv6_host", "[::1]:8080", "/x", "ipv6" },
        { "Bracketed_IPv6_without_port_matches", "[::1]", "/x", "ipv6" },
        { "Bare_IPv6_is_not_split_as_host_and_port", "::1", "/x", "ipv6" },
        { "IPv4_with_port_matches", "10.0.0.1:80", "/ip", "ipv4" },
        { "Empty_port_is_not_stripped", "10.0.0.1:", "/ip", "catch-all" },
        { "Path_less_routes_tie_by_route_id", "tie.test", "/", "tie-a" },
        { "Exact_routes_with_the_same_path_tie_by_route_id", "tie.test", "/same", "tie-m-exact" },
        { "Prefixes_with_the_same_base_tie_by_route_id", "tie.test", "/p/q", "tie-m-prefix" },
        { "No_route_matches_when_no_level_matches_the_path", "root.test", "no-slash", null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Request_goes_to_the_route_the_precedence_rules_pick(string rule, string host, string path, string? expected)
    {
        var matched = Table.Match(host, path);

        Assert.True(expected == matched?.Id, $"{rule}: {host} {path} -> expected {expected ?? "(none)"}, got {matched?.Id ?? "(none)"}");
        Assert.Same(matched, Table.Explain(host, path).Matched);
    }
}
