using Lb.AspNetCore.Admin;
using Lb.AspNetCore.Proxy;
using Lb.Core.Store;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the Lb proxy and admin API into an ASP.NET Core application (services: <c>AddAspNetCore()</c>).</summary>
public static class LoadBalancerEndpointExtensions
{
    /// <summary>
    /// Sends every request that no other endpoint takes to the load balancer (route match, balance, forward).
    /// Constrain it to the proxy listener with <c>.RequireHost("*:8080")</c> when the app also serves other things.
    /// </summary>
    public static IEndpointConventionBuilder MapLoadBalancer(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var handler = Required<ProxyHandler>(endpoints.ServiceProvider, nameof(MapLoadBalancer));
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
        var admin = Required<AdminApi>(endpoints.ServiceProvider, nameof(MapLoadBalancerAdmin));
        var history = Required<ConfigHistoryApi>(endpoints.ServiceProvider, nameof(MapLoadBalancerAdmin));
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
        var files = Required<Lb.AspNetCore.Dashboard.DashboardFiles>(endpoints.ServiceProvider, nameof(MapLoadBalancerDashboard));
        // "{**path}": the default fallback pattern skips paths that look like files, and the assets are files.
        return endpoints.MapFallback("{**path}", files.HandleAsync);
    }

    /// <summary>Terminal middleware form of <see cref="MapLoadBalancer"/>: the proxy without endpoint routing.</summary>
    public static void RunLoadBalancer(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var handler = Required<ProxyHandler>(app.ApplicationServices, nameof(RunLoadBalancer));
        app.Run(handler.InvokeAsync);
    }

    // Without AddAspNetCore() the container has none of our services; say which line to add instead of letting DI
    // name an internal type.
    private static T Required<T>(IServiceProvider services, string caller) where T : notnull =>
        services.GetService<T>() ?? throw new InvalidOperationException(
            services.GetService<IDesiredStateStore>() is null
                ? $"{caller}() needs the Lb services. Add builder.Services.AddLoadBalancer(builder.Configuration.GetSection(\"Lb\")).AddAspNetCore(); before builder.Build()."
                : $"{caller}() needs the ASP.NET Core part of Lb. Call .AddAspNetCore() on what AddLoadBalancer() returns: builder.Services.AddLoadBalancer(...).AddAspNetCore(); before builder.Build().");
}
