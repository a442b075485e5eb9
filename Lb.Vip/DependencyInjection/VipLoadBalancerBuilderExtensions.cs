using Lb.Core.DependencyInjection;
using Lb.Vip;
using Lb.Vip.Controller;
using Lb.Vip.Driver;
using Lb.Core.Cluster;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the VIP controller to a load balancer.</summary>
public static class VipLoadBalancerBuilderExtensions
{
    /// <summary>
    /// Keeps the cluster VIP (<c>vipAddress</c>, or the replicated VIP policy) on <c>vipInterface</c> while this node
    /// leads with a valid lease, announces it with gratuitous ARP and removes it on step-down, lease loss and shutdown.
    /// Without a configured address it does nothing. Needs Linux with CAP_NET_ADMIN and CAP_NET_RAW; elsewhere, or
    /// without them, the reason shows in the VIP status (<c>last_error</c>) and the rest of the node runs normally.
    /// </summary>
    /// <param name="builder">The load balancer builder.</param>
    /// <param name="configure">Adjusts <see cref="VipOptions"/>, or null for the defaults.</param>
    public static ILoadBalancerBuilder AddVip(this ILoadBalancerBuilder builder, Action<VipOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<VipOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<VipOptions>, VipOptionsValidator>());
        options.ValidateOnStart();
        services.TryAddSingleton<IVipDriver>(_ => OperatingSystem.IsLinux() ? new LinuxVipDriver() : new UnsupportedVipDriver());
        services.TryAddSingleton<VipController>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, VipController>(sp => sp.GetRequiredService<VipController>()));
        services.Replace(ServiceDescriptor.Singleton<IVipStatusView>(sp => sp.GetRequiredService<VipController>()));
        return builder;
    }
}
