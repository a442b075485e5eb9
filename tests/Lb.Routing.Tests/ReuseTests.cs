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

    private static RouteSpec[] Generated(int count, Random random)
    {
        string[] hosts = ["a.test", "b.test", "*.w.test", "x.w.test"];
        return [.. Enumerable.Range(0, count).Select(i => (i % 5) switch
        {
            0 => Routes.Exact($"e{i}", $"/p{random.Next(6)}", hosts[random.Next(hosts.Length)]),
            1 => Routes.Prefix($"p{i}", $"/p{random.Next(6)}/", hosts[random.Next(hosts.Length)]),
            2 => Routes.Regex($"r{i}", $"^/p{random.Next(6)}/[0-9]+$", hosts[random.Next(hosts.Length)]),
            3 => Routes.Prefix($"n{i}", $"/p{random.Next(6)}/q/"),
            _ => random.Next(4) == 0 ? Routes.Any($"a{i}").Disabled() : Routes.Any($"a{i}", hosts[random.Next(hosts.Length)]),
        })];
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Taking_over_a_table_through_many_small_edits_matches_and_orders_like_compiling_from_scratch(int seed)
    {
        var random = new Random(seed);
        var specs = Generated(60, random).ToList();
        var table = RouteTable.Compile(Routes.Config([.. specs]));
        var fresh = Generated(400, new Random(seed + 100)); // a pool of replacement routes
        string[] probeHosts = ["a.test", "b.test", "x.w.test", "y.w.test", "other.test"];
        for (var step = 0; step < 80; step++)
        {
            // Replace one route in place, append one, or drop the last: the edits a store that writes by id produces.
            switch (random.Next(3))
            {
                case 0:
                    var at = random.Next(specs.Count);
                    specs[at] = fresh[step] with { Id = specs[at].Id };
                    break;
                case 1:
                    specs.Add(fresh[200 + step] with { Id = $"added{step}" });
                    break;
                default:
                    specs.RemoveAt(specs.Count - 1);
                    break;
            }
            var config = Routes.Config([.. specs]);
            table = RouteTable.Compile(config, table);
            var scratch = RouteTable.Compile(config);

            Assert.Equal(scratch.Routes.Select(r => r.Id), table.Routes.Select(r => r.Id));
            Assert.Equal(table.Routes.Count, table.Routes.Select(r => r.Slot).Distinct().Count());
            Assert.All(table.Routes, r => Assert.InRange(r.Slot, 0, table.SlotCount - 1));
            foreach (var host in probeHosts)
            {
                for (var p = 0; p < 6; p++)
                {
                    foreach (var path in new[] { $"/p{p}", $"/p{p}/", $"/p{p}/12", $"/p{p}/q/z", "/" })
                    {
                        Assert.Equal(scratch.Match(host, path)?.Id, table.Match(host, path)?.Id);
                    }
                }
            }
        }
    }

    [Fact]
    public void A_route_replaced_in_place_is_the_only_new_instance_and_the_others_keep_their_slots()
    {
        var specs = Generated(50, new Random(7));
        var previous = RouteTable.Compile(Routes.Config(specs));
        var changed = specs.ToArray();
        changed[20] = Routes.Prefix(changed[20].Id, "/moved/", "a.test");

        var next = RouteTable.Compile(Routes.Config(changed), previous);

        var taken = next.Routes.Where(r => previous.Routes.Contains(r)).ToList();
        Assert.Equal(previous.Routes.Count - 1, taken.Count);
        Assert.Equal(changed[20].Id, Assert.Single(next.Routes.Except(taken)).Id);
        Assert.Equal(previous.Routes.Single(r => r.Id == changed[20].Id).Slot, next.Routes.Single(r => r.Id == changed[20].Id).Slot);
        Assert.Equal("/moved/", next.Match("a.test", "/moved/x")?.PathValue);
    }
}
