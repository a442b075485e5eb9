using Lb.AspNetCore.Listeners;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Per-listener connection budgets for Kestrel.</summary>
public static class ConnectionLimitExtensions
{
    /// <summary>
    /// Holds at most <paramref name="maxConnections"/> open connections on this listener; a connection over the budget
    /// is closed as soon as it is accepted (before TLS) and counted in <c>lb_listener_connections_rejected_total</c>.
    /// Call it before <c>UseHttps</c>. Each listener has its own budget, so a flood on one cannot lock out the other.
    /// </summary>
    public static ListenOptions UseConnectionLimit(this ListenOptions listen, string listenerName, long maxConnections)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentException.ThrowIfNullOrEmpty(listenerName);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConnections, 1);
        listen.Use(next =>
        {
            var metrics = listen.ApplicationServices.GetService<ListenerMetrics>();
            return new ConnectionLimit(listenerName, maxConnections, metrics).Wrap(next);
        });
        return listen;
    }
}
