using Lb.AspNetCore.Admin;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// Keeps the admin API off the proxy port. Mark the operators' Kestrel listener with <see cref="UseLoadBalancerAdmin(ListenOptions)"/>
/// and call <see cref="UseLoadBalancerAdmin(IApplicationBuilder)"/>: connections accepted by that listener get the admin API
/// and <c>/metrics</c> (and nothing else); every other listener never sees them. The choice is made per connection by the
/// listener that accepted it, so no Host header can move a request from one side to the other.
/// </summary>
public static class AdminListenerExtensions
{
    private const string ListenerKey = "lb.admin-listener";

    /// <summary>Marks this Kestrel listener as the admin listener.</summary>
    public static ListenOptions UseLoadBalancerAdmin(this ListenOptions listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        (listen.ApplicationServices?.GetService(typeof(Lb.AspNetCore.Listeners.LoadBalancerListeners)) as Lb.AspNetCore.Listeners.LoadBalancerListeners)?.AddAdmin(listen);
        listen.Use(next => connection =>
        {
            connection.Items[ListenerKey] = true;
            return next(connection);
        });
        return listen;
    }

    /// <summary>
    /// Serves the admin API (<c>/api/...</c>) and <c>/metrics</c> on connections of listeners marked with
    /// <see cref="UseLoadBalancerAdmin(ListenOptions)"/>, answering 404 to anything else there. Call it before
    /// <c>MapLoadBalancer()</c>.
    /// </summary>
    public static IApplicationBuilder UseLoadBalancerAdmin(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var admin = app.ApplicationServices.GetRequiredService<AdminApi>();
        return app.MapWhen(IsAdminConnection, branch => branch.Run(context =>
        {
            var path = context.Request.Path;
            if (path.StartsWithSegments("/api") || path == "/metrics")
            {
                return admin.HandleAsync(context);
            }
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }));
    }

    /// <summary>Whether the request came in on a listener marked with <see cref="UseLoadBalancerAdmin(ListenOptions)"/>.</summary>
    public static bool IsAdminConnection(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Features.Get<IConnectionItemsFeature>()?.Items.ContainsKey(ListenerKey) == true;
    }
}
