using Lb.Core.DependencyInjection;
using Lb.Core.Options;
using Lb.Core.Store;
using Lb.Core.Validation;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Lb core services.</summary>
public static class LoadBalancerServiceCollectionExtensions
{
    /// <summary>
    /// Adds Lb's core services: node options (validated on start), the desired-state store (the single-node file
    /// store in <c>raftDataDir</c> unless another package, such as Lb.Raft, registered one first) and
    /// <see cref="TimeProvider"/>. Safe to call more than once.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">A section with <see cref="LbNodeOptions"/> keys (e.g. <c>Configuration.GetSection("Lb")</c>), or null.</param>
    /// <param name="configure">Adjusts the options after binding, or null.</param>
    public static ILoadBalancerBuilder AddLoadBalancer(this IServiceCollection services, IConfiguration? configuration = null, Action<LbNodeOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var optionsBuilder = services.AddOptions<LbNodeOptions>();
        if (configuration is not null)
        {
            optionsBuilder.Bind(configuration);
        }
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }
        optionsBuilder.PostConfigure(o => o.ApplyDefaults());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LbNodeOptions>, LbNodeOptionsValidator>());
        optionsBuilder.ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(DesiredStateLimits.Default);
        services.TryAddSingleton<IDesiredStateStore>(sp => new FileDesiredStateStore(
            sp.GetRequiredService<IOptions<LbNodeOptions>>().Value.RaftDataDir,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<DesiredStateLimits>(),
            sp.GetService<ILogger<FileDesiredStateStore>>(),
            sp.GetService<IAlgorithmRules>()));
        return new LoadBalancerBuilder(services);
    }
}
