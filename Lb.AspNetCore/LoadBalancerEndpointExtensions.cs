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
    /// Maps the admin JSON API (<c>/api/...</c>) and Prometheus metrics (<c>/metrics</c>). Put it on a listener that only
    /// operators reach, and set <c>adminToken</c>.
    /// </summary>
    public static IEndpointConventionBuilder MapLoadBalancerAdmin(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var admin = Required<AdminApi>(endpoints.ServiceProvider, nameof(MapLoadBalancerAdmin));
        endpoints.Map("/metrics", admin.HandleAsync);
        return endpoints.Map("/api/{**path}", admin.HandleAsync);
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
