using System.Diagnostics.Metrics;
using Lb.AspNetCore.Admin;
using Lb.AspNetCore.Diagnostics;
using Lb.AspNetCore.Options;
using Lb.AspNetCore.Listeners;
using Lb.AspNetCore.Proxy;
using Lb.AspNetCore.Runtime;
using Lb.Core.DependencyInjection;
using Lb.Core.Runtime;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Lb proxy and admin API (map them with <c>MapLoadBalancer()</c>, <c>MapLoadBalancerAdmin()</c>).</summary>
public static class LoadBalancerAspNetCoreExtensions
{
    /// <summary>
    /// Adds the proxy, the admin API and the runtime that projects the desired state into route tables and upstream
    /// pools (includes <c>AddBalancing()</c> and YARP's forwarder). Safe to call more than once.
    /// </summary>
    public static ILoadBalancerBuilder AddAspNetCore(this ILoadBalancerBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddBalancing();
        var services = builder.Services;
        builder.AddLbOptions<ProxyOptions>(static (section, o) => section.Bind(o));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ProxyOptions>, ProxyOptionsValidator>());
        services.AddHttpForwarder();
        services.TryAddSingleton(sp =>
        {
            var runtime = sp.GetRequiredService<RuntimeManager>();
            return new PrometheusExporter(sp.GetRequiredService<IMeterFactory>(), (pool, target) => ProxyMetrics.IsLiveTarget(runtime, pool, target));
        });
        services.AddMetrics();
        services.TryAddSingleton<RuntimeSnapshotBuilder>();
        services.TryAddSingleton<LoadBalancerListeners>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, AdminListenerAnnouncer>());
        services.TryAddSingleton<RuntimeManager>();
        services.TryAddSingleton<IRuntimeApplyStatus>(sp => sp.GetRequiredService<RuntimeManager>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RuntimeManager>(sp => sp.GetRequiredService<RuntimeManager>()));
        services.TryAddSingleton<HttpForwardingTable>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRuntimeAttachment, HttpForwardingTable>(sp => sp.GetRequiredService<HttpForwardingTable>()));
        services.TryAddSingleton<Lb.AspNetCore.FastPath.FastPathTable>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRuntimeAttachment, Lb.AspNetCore.FastPath.FastPathTable>(sp => sp.GetRequiredService<Lb.AspNetCore.FastPath.FastPathTable>()));
        services.TryAddSingleton<Lb.AspNetCore.FastPath.FastPathProxy>();
        services.TryAddSingleton<Lb.AspNetCore.L4.TcpListenerManager>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRuntimeAttachment, Lb.AspNetCore.L4.TcpListenerManager>(sp => sp.GetRequiredService<Lb.AspNetCore.L4.TcpListenerManager>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, Lb.AspNetCore.L4.TcpListenerManager>(sp => sp.GetRequiredService<Lb.AspNetCore.L4.TcpListenerManager>()));
        services.TryAddSingleton<ClientAddressResolver>();
        services.TryAddSingleton<ProxyMetrics>();
        services.TryAddSingleton<ListenerMetrics>();
        services.TryAddSingleton<ProxyHandler>();
        // Compiles the proxy path once at start, so a node's first proxied request (a VIP takeover) is not a cold one.
        services.TryAddSingleton<ProxyWarmup>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ProxyWarmup>(sp => sp.GetRequiredService<ProxyWarmup>()));
        services.TryAddSingleton<AdminApi>();
        services.TryAddSingleton<ConfigHistoryApi>();
        services.TryAddSingleton<StatsPage>();
        services.TryAddSingleton<Lb.AspNetCore.Dashboard.DashboardFiles>();
        return builder;
    }

}
