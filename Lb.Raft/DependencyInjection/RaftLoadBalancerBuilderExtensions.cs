using Lb.Core.Admin;
using Lb.Core.DependencyInjection;
using Lb.Core.Store;
using Lb.Raft;
using Lb.Raft.Lifecycle;
using Lb.Raft.Store;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the Raft store to an Lb node.</summary>
public static class RaftLoadBalancerBuilderExtensions
{
    /// <summary>
    /// Makes the node cluster-capable: it still starts standalone on the file store, and <c>cluster bootstrap</c> or
    /// <c>cluster join</c> switch it to a Raft-replicated store (DotNext, TCP transport) without a restart. Adds the
    /// lifecycle endpoints (<c>/api/cluster/bootstrap</c>, <c>/api/node/join-cluster</c>, <c>/api/cluster/join</c>,
    /// <c>/api/cluster/remove</c>), reopens the store when a member restarts, and exports <c>lb_raft_*</c> metrics.
    /// Safe to call more than once.
    /// </summary>
    public static ILoadBalancerBuilder AddRaftStore(this ILoadBalancerBuilder builder, Action<RaftStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<RaftStoreOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }
        options.Validate(o => o.WriteTimeout > TimeSpan.Zero && o.WriteTimeout <= TimeSpan.FromMinutes(1),
                "RaftStoreOptions.WriteTimeout must be between 0 and 1 minute (default 1.8 s)")
            .Validate(o => o.SnapshotEvery >= 1, "RaftStoreOptions.SnapshotEvery must be at least 1 (default 100)")
            .ValidateOnStart();
        if (services.Any(d => d.ServiceType == typeof(RaftClusterLifecycle)))
        {
            return builder;
        }
        // Validation merges a partial raft_timing with the timing this store runs with, not the reference library's.
        var defaults = Lb.Raft.Timing.RaftTiming.Default;
        services.Replace(ServiceDescriptor.Singleton(new Lb.Core.Validation.RaftTimingDefaults
        {
            HeartbeatTimeout = defaults.HeartbeatTimeout,
            ElectionTimeout = defaults.ElectionTimeout,
            LeaderLeaseTimeout = defaults.LeaderLeaseTimeout,
            CommitTimeout = defaults.CommitTimeout,
        }));
        services.TryAddSingleton<RaftStoreFactory>();
        services.TryAddSingleton<RaftClusterLifecycle>();
        services.TryAddSingleton<IClusteredStoreProvider>(sp => sp.GetRequiredService<RaftClusterLifecycle>());
        services.AddSingleton<IAdminEndpointContributor>(sp => sp.GetRequiredService<RaftClusterLifecycle>());
        services.AddSingleton<IAdminListenerObserver>(sp => sp.GetRequiredService<RaftClusterLifecycle>());
        return builder;
    }
}
