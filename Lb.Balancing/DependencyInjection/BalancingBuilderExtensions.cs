using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using Lb.Core.DependencyInjection;
using Lb.Core.Validation;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using Lb.Balancing;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the balancing package.</summary>
public static class BalancingBuilderExtensions
{
    /// <summary>
    /// Adds <see cref="UpstreamRegistry"/>, the four built-in <see cref="ILoadBalancingPolicy"/> implementations,
    /// <see cref="LoadBalancingPolicies"/>, <see cref="TimeProvider.System"/> (unless one is registered) and the
    /// <see cref="BalancingOptions.HealthCheckHttpClientName"/> HTTP client, which follows no redirects, ignores
    /// proxy environment variables, keeps no cookies and logs nothing per probe. Safe to call more than once.
    /// </summary>
    public static ILoadBalancerBuilder AddBalancing(this ILoadBalancerBuilder builder, Action<BalancingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<BalancingOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }
        if (services.Any(d => d.ServiceType == typeof(BalancingMarker)))
        {
            return builder;
        }
        services.AddSingleton<BalancingMarker>();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoadBalancingPolicy, RoundRobinPolicy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoadBalancingPolicy, StickyCookiePolicy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoadBalancingPolicy, FiveTupleHashPolicy>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoadBalancingPolicy, LeastConnectionPolicy>());
        services.TryAddSingleton<LoadBalancingPolicies>();
        // Validation (every store, the validate endpoint) accepts exactly the registered policies and applies their rules.
        services.Replace(ServiceDescriptor.Singleton<IAlgorithmRules>(sp => sp.GetRequiredService<LoadBalancingPolicies>()));
        services.TryAddSingleton(sp => new UpstreamRegistry(
            sp.GetRequiredService<IHttpClientFactory>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<UpstreamRegistry>>(),
            sp.GetRequiredService<IOptions<BalancingOptions>>().Value,
            sp.GetService<IMeterFactory>()));

        services.AddHttpClient(BalancingOptions.HealthCheckHttpClientName)
            .ConfigurePrimaryHttpMessageHandler(static () => new SocketsHttpHandler
            {
                // Contract §13.17: the reference follows redirects and honours proxy variables; a probe must
                // judge the target itself.
                AllowAutoRedirect = false,
                UseProxy = false,
                UseCookies = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
                ConnectTimeout = TimeSpan.FromSeconds(30),
            })
            // One handler for the process: recycling handlers buys nothing when targets are addressed by IP
            // or the pooled connection lifetime already bounds DNS staleness.
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers();
        return builder;
    }

    /// <summary>
    /// Registers a balancing policy by its <see cref="ILoadBalancingPolicy.Name"/>: routes may then name it in
    /// <c>algorithm</c> (validation accepts it and applies its <see cref="ILoadBalancingPolicy.Validate"/> rules) and
    /// the proxy hands its balancers what <see cref="ILoadBalancingPolicy.GetInputs"/> declares. Adds
    /// <see cref="AddBalancing"/> if needed. A policy with the name of a built-in one replaces it.
    /// </summary>
    public static ILoadBalancerBuilder AddBalancingPolicy<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TPolicy>(this ILoadBalancerBuilder builder)
        where TPolicy : class, ILoadBalancingPolicy
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddBalancing();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoadBalancingPolicy, TPolicy>());
        return builder;
    }

    private sealed class BalancingMarker;
}
