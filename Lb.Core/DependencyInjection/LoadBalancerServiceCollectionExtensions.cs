using System.Diagnostics.CodeAnalysis;
using Lb.Core.Admin;
using Lb.Core.Cluster;
using Lb.Core.DependencyInjection;
using Lb.Core.Node;
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
    /// Adds Lb's core services: node options (validated on start), the node's data directory (lock, mode, identity),
    /// the desired-state store (the file store in <c>dataDir</c> on a standalone node, the
    /// <see cref="IClusteredStoreProvider"/>'s store on a clustered one; a store registered first wins), the cluster
    /// seams with standalone defaults (<see cref="ILeadershipView"/>, <see cref="IClusterStatusView"/>,
    /// <see cref="IVipStatusView"/>, cluster lifecycle endpoints answering 501) and <see cref="TimeProvider"/>.
    /// Safe to call more than once.
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
            // Other packages bind their own options from the same section (AddLbOptions).
            services.TryAddSingleton(new LbConfigurationSection(configuration));
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
        services.TryAddSingleton(RaftTimingDefaults.Reference);
        services.TryAddSingleton<IDesiredStateValidator>(sp => new DefaultDesiredStateValidator(
            sp.GetRequiredService<DesiredStateLimits>(), sp.GetRequiredService<RaftTimingDefaults>(), sp.GetService<IAlgorithmRules>()));
        services.TryAddSingleton(sp => new NodeDataDirectory(
            sp.GetRequiredService<IOptions<LbNodeOptions>>().Value.DataDir,
            sp.GetService<ILogger<NodeDataDirectory>>()));
        services.TryAddSingleton(sp => new FileDesiredStateStore(
            sp.GetRequiredService<NodeDataDirectory>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IDesiredStateValidator>(),
            sp.GetService<ILogger<FileDesiredStateStore>>(),
            sp.GetRequiredService<IOptions<LbNodeOptions>>().Value.ConfigHistoryLimit));
        services.TryAddSingleton(sp => new ActiveDesiredStateStore(
            OpenStoreOfRecordedMode(sp),
            sp.GetRequiredService<NodeDataDirectory>(),
            sp.GetService<ILogger<ActiveDesiredStateStore>>()));
        services.TryAddSingleton<IDesiredStateStore>(sp => sp.GetRequiredService<ActiveDesiredStateStore>());

        // Cluster seams with standalone defaults; Lb.Raft and Lb.Vip replace or extend them.
        services.TryAddSingleton<ILeadershipView, NodeLeadershipView>();
        services.TryAddSingleton<IClusterStatusView, NodeClusterStatusView>();
        services.TryAddSingleton<IVipStatusView, ConfiguredVipStatusView>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAdminEndpointContributor, StandaloneClusterLifecycleEndpoints>());
        var builder = new LoadBalancerBuilder(services);
        builder.AddLbOptions<AdminOptions>(static (section, o) => section.Bind(o));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AdminOptions>, AdminOptionsValidator>());
        return builder;
    }

    /// <summary>
    /// Binds a package's own options from the section given to <c>AddLoadBalancer</c> (the host's <c>app.json</c>
    /// keys) and validates them on start with every registered <see cref="IValidateOptions{TOptions}"/>. Each package
    /// calls this in its own <c>AddX</c>; its options' settable properties are its <c>app.json</c> keys.
    /// </summary>
    /// <param name="builder">The Lb builder.</param>
    /// <param name="bind">
    /// Binds the section onto the options: <c>static (section, o) =&gt; section.Bind(o)</c>, written where the options type
    /// is concrete so the configuration binding source generator (<c>EnableConfigurationBindingGenerator</c>) binds it
    /// without reflection and the host can be published as Native AOT.
    /// </param>
    public static OptionsBuilder<TOptions> AddLbOptions<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(
        this ILoadBalancerBuilder builder, Action<IConfiguration, TOptions> bind)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(bind);
        var options = builder.Services.AddOptions<TOptions>();
        if (!builder.Services.Any(d => d.ServiceType == typeof(LbOptionsBinding<TOptions>)))
        {
            builder.Services.AddSingleton(new LbOptionsBinding<TOptions>());
            options.Configure<IServiceProvider>((o, sp) =>
            {
                if (sp.GetService<LbConfigurationSection>() is { } section)
                {
                    bind(section.Configuration, o);
                }
            });
            options.ValidateOnStart();
        }
        return options;
    }

    /// <summary>
    /// Adds a group of admin endpoints (<see cref="IAdminEndpointContributor"/>); the admin API serves them beside its
    /// own. A contributor replaces a default one of the same feature. Safe to call more than once.
    /// </summary>
    public static ILoadBalancerBuilder AddAdminEndpoints<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TContributor>(this ILoadBalancerBuilder builder)
        where TContributor : class, IAdminEndpointContributor
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IAdminEndpointContributor, TContributor>());
        return builder;
    }

    private static IDesiredStateStore OpenStoreOfRecordedMode(IServiceProvider services)
    {
        var directory = services.GetRequiredService<NodeDataDirectory>();
        if (directory.Mode == NodeMode.Standalone)
        {
            return services.GetRequiredService<FileDesiredStateStore>();
        }
        var provider = services.GetService<IClusteredStoreProvider>()
            ?? throw new InvalidOperationException($"The data directory '{directory.Path}' belongs to a cluster member ({NodeDataDirectory.NodeFileName} says so) but no clustered store is registered: add .AddRaftStore() (package Lb.Raft), or point dataDir at another directory.");
        return provider.OpenExisting(directory);
    }
}

/// <summary>The configuration section the host gave <c>AddLoadBalancer</c>.</summary>
internal sealed record LbConfigurationSection(IConfiguration Configuration);

/// <summary>Marks options already bound by <c>AddLbOptions</c>, so a second call binds nothing twice.</summary>
internal sealed class LbOptionsBinding<TOptions>;
