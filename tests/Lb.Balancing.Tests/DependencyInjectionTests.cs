using Lb.Core.Spec;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http;

namespace Lb.Balancing.Tests;

public sealed class DependencyInjectionTests
{
    private sealed class FirstTargetPolicy : ILoadBalancingPolicy
    {
        public string Name => "first";

        public IRouteBalancer CreateBalancer(RouteSpec route, UpstreamPool pool) => new Balancer(pool);

        private sealed class Balancer(UpstreamPool pool) : IRouteBalancer
        {
            public PickResult Pick(in PickContext context) => new(pool.Targets[0]);
        }
    }

    [Fact]
    public async Task AddBalancing_registers_the_registry_and_the_built_in_policies_once_even_when_called_twice()
    {
        var services = new ServiceCollection().AddLogging();
        var builder = new TestLoadBalancerBuilder(services);

        builder.AddBalancing().AddBalancing(o => o.StickyCookieKey = new byte[32]);
        await using var provider = services.BuildServiceProvider();

        Assert.Same(provider.GetRequiredService<UpstreamRegistry>(), provider.GetRequiredService<UpstreamRegistry>());
        Assert.Equal(9, provider.GetServices<ILoadBalancingPolicy>().Count());
        var policies = provider.GetRequiredService<LoadBalancingPolicies>();
        Assert.Equal(LoadBalancingPolicies.CreateDefault().Names.Order(StringComparer.Ordinal), policies.Names.Order(StringComparer.Ordinal));
        Assert.Superset(new HashSet<string>(Algorithms.All), new HashSet<string>(policies.Names));
        Assert.Same(TimeProvider.System, provider.GetRequiredService<TimeProvider>());
        Assert.NotNull(provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<BalancingOptions>>().Value.StickyCookieKey);
    }

    [Fact]
    public async Task A_custom_policy_registered_through_di_is_found_by_name()
    {
        var services = new ServiceCollection().AddLogging();
        new TestLoadBalancerBuilder(services).AddBalancing();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoadBalancingPolicy, FirstTargetPolicy>());
        await using var provider = services.BuildServiceProvider();
        var registry = provider.GetRequiredService<UpstreamRegistry>();
        var pool = registry.Apply(Configs.Config(("p", Configs.Pool("a:1", "b:1")))).Pools["p"];

        var balancer = provider.GetRequiredService<LoadBalancingPolicies>().CreateBalancer(Configs.Route("r", "p", "first"), pool);

        Assert.Equal("a:1", balancer.Pick(default).Target!.Address);
        Assert.Throws<KeyNotFoundException>(() => LoadBalancingPolicies.CreateDefault().CreateBalancer(Configs.Route("r", "p", "first"), pool));
    }

    [Fact]
    public async Task The_health_check_client_follows_no_redirects_uses_no_proxy_and_keeps_no_cookies()
    {
        var services = new ServiceCollection().AddLogging();
        new TestLoadBalancerBuilder(services).AddBalancing();
        await using var provider = services.BuildServiceProvider();

        var handler = provider.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler(BalancingOptions.HealthCheckHttpClientName);
        while (handler is DelegatingHandler delegating)
        {
            handler = delegating.InnerHandler!;
        }

        var sockets = Assert.IsType<SocketsHttpHandler>(handler);
        Assert.False(sockets.AllowAutoRedirect);
        Assert.False(sockets.UseProxy);
        Assert.False(sockets.UseCookies);
    }

    [Fact]
    public async Task A_short_sticky_cookie_key_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => new Harness(new BalancingOptions { StickyCookieKey = new byte[8] }));
        await Task.CompletedTask;
    }
}
