using Lb.AspNetCore.Admin;
using Lb.AspNetCore.Diagnostics;
using Lb.AspNetCore.Listeners;
using Lb.AspNetCore.Proxy;
using Lb.AspNetCore.Runtime;
using Lb.Balancing;
using Lb.Core.DependencyInjection;
using Lb.Core.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Lb.AspNetCore;

/// <summary>Wires the Lb proxy and admin API into an ASP.NET Core application.</summary>
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
        services.AddHttpForwarder();
        services.TryAddSingleton<PrometheusExporter>();
        services.AddMetrics();
        services.TryAddSingleton<RuntimeSnapshotBuilder>();
        services.TryAddSingleton<RuntimeManager>();
        services.TryAddSingleton<IRuntimeApplyStatus>(sp => sp.GetRequiredService<RuntimeManager>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RuntimeManager>(sp => sp.GetRequiredService<RuntimeManager>()));
        services.TryAddSingleton<HttpForwardingTable>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRuntimeAttachment, HttpForwardingTable>(sp => sp.GetRequiredService<HttpForwardingTable>()));
        services.TryAddSingleton<ClientAddressResolver>();
        services.TryAddSingleton<ProxyMetrics>();
        services.TryAddSingleton<ListenerMetrics>();
        services.TryAddSingleton<ProxyHandler>();
        services.TryAddSingleton<AdminApi>();
        return builder;
    }

    /// <summary>
    /// Sends every request that no other endpoint takes to the load balancer (route match, balance, forward).
    /// Constrain it to the proxy listener with <c>.RequireHost("*:8080")</c> when the app also serves other things.
    /// </summary>
    public static IEndpointConventionBuilder MapLoadBalancer(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var handler = endpoints.ServiceProvider.GetRequiredService<ProxyHandler>();
        return endpoints.MapFallback(handler.InvokeAsync);
    }

    /// <summary>
    /// Maps the admin JSON API (<c>/api/...</c>) and Prometheus metrics (<c>/metrics</c>). Put it on a listener that only
    /// operators reach, and set <c>adminToken</c>.
    /// </summary>
    public static IEndpointConventionBuilder MapLoadBalancerAdmin(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var admin = endpoints.ServiceProvider.GetRequiredService<AdminApi>();
        endpoints.Map("/metrics", admin.HandleAsync);
        return endpoints.Map("/api/{**path}", admin.HandleAsync);
    }

    /// <summary>Terminal middleware form of <see cref="MapLoadBalancer"/>: the proxy without endpoint routing.</summary>
    public static void RunLoadBalancer(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var handler = app.ApplicationServices.GetRequiredService<ProxyHandler>();
        app.Run(handler.InvokeAsync);
    }
}
