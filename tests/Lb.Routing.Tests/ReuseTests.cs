using Lb.Core.Spec;

namespace Lb.Routing.Tests;

/// <summary>Compiling a configuration against the table it replaces takes over what did not change.</summary>
public sealed class ReuseTests
{
    [Fact]
    public void An_unchanged_regex_is_the_same_instance_and_a_changed_one_is_built_for_its_new_pattern()
    {
        var previous = Routes.Table(
            Routes.Regex("kept", @"^/img/[a-z]+\.png$", "a.test"),
            Routes.Regex("changed", @"^/old/\d+$", "b.test"));

        var next = RouteTable.Compile(Routes.Config(
            Routes.Regex("kept", @"^/img/[a-z]+\.png$", "a.test"),
            Routes.Regex("changed", @"^/new/\d+$", "b.test"),
            Routes.Exact("added", "/x", "c.test")), previous);

        var kept = next.Routes.Single(r => r.Id == "kept");
        var changed = next.Routes.Single(r => r.Id == "changed");
        Assert.Same(previous.Routes.Single(r => r.Id == "kept").PathRegex, kept.PathRegex);
        Assert.NotSame(previous.Routes.Single(r => r.Id == "changed").PathRegex, changed.PathRegex);
        Assert.Equal(@"^/new/\d+$", changed.PathRegex!.ToString());
        Assert.Equal("changed", next.Match("b.test", "/new/42")?.Id);
        Assert.Null(next.Match("b.test", "/old/42"));
        Assert.Equal("kept", next.Match("a.test", "/img/logo.png")?.Id);
    }

    [Fact]
    public void A_table_compiled_against_a_previous_one_matches_like_one_compiled_from_scratch()
    {
        var previous = Routes.Table(Routes.Regex("r", "^/a/.*$", "h.test"), Routes.Prefix("p", "/api/", "h.test"));
        var config = Routes.Config(Routes.Regex("r", "^/a/.*$", "h.test"), Routes.Prefix("p", "/api/v2/", "h.test"), Routes.Any("fallback"));

        var reused = RouteTable.Compile(config, previous);
        var fresh = RouteTable.Compile(config);

        foreach (var (host, path) in new[] { ("h.test", "/a/b"), ("h.test", "/api/v2/x"), ("h.test", "/api/x"), ("other.test", "/") })
        {
            Assert.Equal(fresh.Match(host, path)?.Id, reused.Match(host, path)?.Id);
        }
        Assert.Equal(fresh.Routes.Select(r => r.Id), reused.Routes.Select(r => r.Id));
    }
}
