using System.Diagnostics.Metrics;
using Lb.AspNetCore.Admin;
using Lb.AspNetCore.Diagnostics;
using Lb.AspNetCore.Options;
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
using Microsoft.Extensions.Options;

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
        builder.AddLbOptions<ProxyOptions>();
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
        services.TryAddSingleton<RuntimeManager>();
        services.TryAddSingleton<IRuntimeApplyStatus>(sp => sp.GetRequiredService<RuntimeManager>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RuntimeManager>(sp => sp.GetRequiredService<RuntimeManager>()));
        services.TryAddSingleton<HttpForwardingTable>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRuntimeAttachment, HttpForwardingTable>(sp => sp.GetRequiredService<HttpForwardingTable>()));
        services.TryAddSingleton<FastPath.FastPathTable>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IRuntimeAttachment, FastPath.FastPathTable>(sp => sp.GetRequiredService<FastPath.FastPathTable>()));
        services.TryAddSingleton<FastPath.FastPathProxy>();
        services.TryAddSingleton<ClientAddressResolver>();
        services.TryAddSingleton<ProxyMetrics>();
        services.TryAddSingleton<ListenerMetrics>();
        services.TryAddSingleton<ProxyHandler>();
        services.TryAddSingleton<AdminApi>();
        services.TryAddSingleton<ConfigHistoryApi>();
        services.TryAddSingleton<Dashboard.DashboardFiles>();
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
    /// Maps the admin JSON API (<c>/api/...</c>) and Prometheus metrics (<c>/metrics</c>) on every listener of the app.
    /// The returned builder covers both, so a convention (authorization, a host) applies to all of it. To keep them off
    /// the proxy port, prefer a listener of their own: <c>UseLoadBalancerAdmin()</c> on the Kestrel listener and on the app.
    /// </summary>
    public static IEndpointConventionBuilder MapLoadBalancerAdmin(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var admin = endpoints.ServiceProvider.GetRequiredService<AdminApi>();
        var history = endpoints.ServiceProvider.GetRequiredService<ConfigHistoryApi>();
        // One group so a convention added by the caller covers /metrics, history and /api alike.
        var group = endpoints.MapGroup("");
        group.Map("/metrics", admin.HandleAsync);
        group.Map(ConfigHistoryApi.HistoryPath, history.HandleAsync);
        group.Map(ConfigHistoryApi.HistoryPath + "/{version}", history.HandleAsync);
        group.Map(ConfigHistoryApi.RollbackPath, history.HandleAsync);
        group.Map(ConfigHistoryApi.RouteStatsPath, history.HandleAsync);
        group.Map("/api/{**path}", admin.HandleAsync);
        return group;
    }

    /// <summary>
    /// Maps the web dashboard (static files embedded in this assembly, talking only to the admin API) on every path
    /// that no other endpoint takes: GET/HEAD answer the page or its assets, other methods 405. Use it next to
    /// <see cref="MapLoadBalancerAdmin"/> on the admin listener, never on the proxy's pipeline (it is a fallback too).
    /// </summary>
    public static IEndpointConventionBuilder MapLoadBalancerDashboard(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var files = endpoints.ServiceProvider.GetRequiredService<Dashboard.DashboardFiles>();
        // "{**path}": the default fallback pattern skips paths that look like files, and the assets are files.
        return endpoints.MapFallback("{**path}", files.HandleAsync);
    }

    /// <summary>Terminal middleware form of <see cref="MapLoadBalancer"/>: the proxy without endpoint routing.</summary>
    public static void RunLoadBalancer(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var handler = app.ApplicationServices.GetRequiredService<ProxyHandler>();
        app.Run(handler.InvokeAsync);
    }
}
