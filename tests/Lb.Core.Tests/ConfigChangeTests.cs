using System.Text;
using Lb.Core.Json;
using Lb.Core.Spec;
using Lb.Core.Validation;

namespace Lb.Core.Tests;

public sealed class ConfigChangeTests
{
    private static ProxyConfig Base() => DesiredStateJson.ParseConfig(Encoding.UTF8.GetBytes("""
        {"routes":[
          {"id":"a","enabled":true,"match":{"hosts":["a.test"],"path":{"type":"prefix","value":"/a/"}},"upstream_pool":"p1"},
          {"id":"b","enabled":true,"match":{"hosts":["b.test"],"path":{"type":"regex","value":"^/b/[0-9]+$"}},"upstream_pool":"p2"},
          {"id":"c","enabled":false,"match":{"hosts":[]},"upstream_pool":"p1"}],
         "upstream_pools":{"p1":{"upstreams":["127.0.0.1:1"]},"p2":{"upstreams":["127.0.0.1:2"]},"spare":{"upstreams":["127.0.0.1:3"]}}}
        """)).Value!;

    private static RouteSpec Route(string id, string pool, string path) => new()
    {
        Id = id, Enabled = true, UpstreamPool = pool,
        Match = new RouteMatchSpec { Hosts = ["x.test"], Path = new PathMatchSpec { Type = PathMatchTypes.Prefix, Value = path } },
    };

    [Fact]
    public void A_replaced_route_keeps_its_place_a_new_one_is_appended_and_untouched_ones_are_shared()
    {
        var before = Base();
        var after = new ConfigChange { UpsertRoutes = [Route("b", "p1", "/b/"), Route("d", "p2", "/d/")], RemoveRoutes = ["c"] }.ApplyTo(before);

        Assert.Equal(["a", "b", "d"], after.Routes.Select(r => r.Id));
        Assert.Equal("/b/", after.Routes[1].Match.Path!.Value);
        Assert.Same(before.Routes[0], after.Routes[0]);
        Assert.Same(before.UpstreamPools, after.UpstreamPools);
    }

    [Fact]
    public void Between_gives_the_change_that_rebuilds_the_target_and_null_when_routes_were_reordered()
    {
        var before = Base();
        var target = before with
        {
            Routes = [before.Routes[0], Route("b", "spare", "/b2/"), Route("e", "p1", "/e/")],
            UpstreamPools = new SortedDictionary<string, UpstreamPoolSpec>(StringComparer.Ordinal)
            {
                ["p1"] = before.UpstreamPools["p1"], ["p2"] = new() { Upstreams = [new UpstreamSpec("127.0.0.1:22")] }, ["spare"] = before.UpstreamPools["spare"],
            },
        };

        var change = ConfigChange.Between(before, target)!;

        Assert.Equal(["b", "e"], change.UpsertRoutes.Select(r => r.Id));
        Assert.Equal(["c"], change.RemoveRoutes);
        Assert.Equal(["p2"], change.UpsertPools.Keys);
        Assert.Equal(DesiredStateJson.ContentHash(target), DesiredStateJson.ContentHash(change.ApplyTo(before)));
        Assert.Null(ConfigChange.Between(before, before with { Routes = [before.Routes[1], before.Routes[0], before.Routes[2]] }));
        Assert.True(ConfigChange.Between(before, DesiredStateJson.ParseConfig(DesiredStateJson.Serialize(before)).Value!)!.IsEmpty);
    }

    public static TheoryData<string, string[]> Changes => new()
    {
        { "valid new route", [] },
        { "bad regex", ["routes[3].match.path.value"] },
        { "unknown pool", ["routes[1].upstream_pool"] },
        { "remove a used pool", ["routes[0].upstream_pool", "routes[2].upstream_pool"] },
        { "remove the pool and the routes that use it", [] },
        { "bad pool", ["upstream_pools.spare.upstreams[0]"] },
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public void Validating_only_the_change_gives_the_verdict_of_validating_everything(string name, string[] fields)
    {
        var change = name switch
        {
            "valid new route" => new ConfigChange { UpsertRoutes = [Route("d", "spare", "/d/")] },
            "bad regex" => new ConfigChange { UpsertRoutes = [Route("d", "p1", "/d/") with { Match = new RouteMatchSpec { Path = new PathMatchSpec { Type = PathMatchTypes.Regex, Value = "^/(" } } }] },
            "unknown pool" => new ConfigChange { UpsertRoutes = [Route("b", "nope", "/b/")] },
            "remove a used pool" => new ConfigChange { RemovePools = ["p1"] },
            "remove the pool and the routes that use it" => new ConfigChange { RemovePools = ["p1"], RemoveRoutes = ["a", "c"] },
            "bad pool" => new ConfigChange { UpsertPools = new Dictionary<string, UpstreamPoolSpec> { ["spare"] = new() { Upstreams = [new UpstreamSpec("no-port")] } } },
            _ => throw new ArgumentException(name),
        };
        var before = new DesiredState { Config = Base() };
        var after = before with { Config = change.ApplyTo(before.Config) };

        var incremental = DefaultDesiredStateValidator.Instance.ValidateChange(before, after, change);
        var whole = DefaultDesiredStateValidator.Instance.Validate(after);

        Assert.Equal(fields, incremental.Errors.Select(e => e.Field).Order());
        Assert.Equal(whole.Errors.Select(e => (e.Field, e.Code)).Order(), incremental.Errors.Select(e => (e.Field, e.Code)).Order());
    }
}
