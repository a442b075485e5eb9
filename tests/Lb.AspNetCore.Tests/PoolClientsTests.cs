using Lb.AspNetCore.Proxy;
using Lb.Balancing;
using Lb.Core.Spec;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lb.AspNetCore.Tests;

public sealed class PoolClientsTests : IAsyncDisposable
{
    private readonly UpstreamRegistry _registry = new(new NoHealthChecks(), TimeProvider.System, NullLogger<UpstreamRegistry>.Instance);

    public ValueTask DisposeAsync() => _registry.DisposeAsync();

    private UpstreamPool Pool(string id, string connectTimeout = "3s") =>
        _registry.Apply(new ProxyConfig
        {
            UpstreamPools = new Dictionary<string, UpstreamPoolSpec> { [id] = new() { Upstreams = ["127.0.0.1:1"], ConnectTimeout = connectTimeout } },
        }).Pools[id];

    [Fact]
    public void A_pool_keeps_its_connection_pool_across_config_versions()
    {
        using var clients = new PoolClients();
        Assert.Same(clients.Get(Pool("web")), clients.Get(Pool("web")));
    }

    [Fact]
    public void A_changed_connect_timeout_gets_a_new_handler_and_retires_the_old_one()
    {
        using var clients = new PoolClients();
        var first = clients.Get(Pool("web"));
        var pool = Pool("web", "1s");
        Assert.NotSame(first, clients.Get(pool));
        Assert.Equal(1, clients.RetiredCount);
        clients.Sweep(_registry.Current.Pools.Keys.ToHashSet());
        Assert.Equal(0, clients.RetiredCount); // nothing was in flight
    }

    [Fact]
    public void A_removed_pool_is_disposed_only_after_its_last_request_finished()
    {
        using var clients = new PoolClients();
        var pool = Pool("web");
        clients.Get(pool);
        var balancer = LoadBalancingPolicies.CreateDefault().CreateBalancer(new RouteSpec { Id = "r", UpstreamPool = "web" }, pool);
        var inFlight = balancer.Pick(default).Target!;

        clients.Sweep(new HashSet<string>());
        Assert.Equal(1, clients.RetiredCount);

        inFlight.Complete(RequestOutcome.Success);
        clients.Sweep(new HashSet<string>());
        Assert.Equal(0, clients.RetiredCount);
    }

    [Fact]
    public void A_route_connect_timeout_gets_a_handler_of_its_own_that_is_retired_when_no_route_uses_it()
    {
        using var clients = new PoolClients();
        var pool = Pool("web");
        var shared = clients.Get(pool);
        var own = clients.Get(pool, TimeSpan.FromMilliseconds(500));
        Assert.NotSame(shared, own);
        Assert.Same(own, clients.Get(pool, TimeSpan.FromMilliseconds(500)));
        Assert.Same(shared, clients.Get(pool));
        clients.Sweep(new HashSet<string> { PoolClients.Key(pool, null) });
        Assert.Equal(0, clients.RetiredCount); // retired and, idle, disposed at once
        Assert.NotSame(own, clients.Get(pool, TimeSpan.FromMilliseconds(500)));
    }

    private sealed class NoHealthChecks : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => throw new InvalidOperationException("no pool here has a health check");
    }
}
