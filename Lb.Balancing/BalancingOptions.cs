namespace Lb.Balancing;

/// <summary>Options of the balancing package (<c>AddBalancing(o =&gt; ...)</c>).</summary>
public sealed class BalancingOptions
{
    /// <summary>The name of the <see cref="System.Net.Http.IHttpClientFactory"/> client active health probes use.</summary>
    public const string HealthCheckHttpClientName = "Lb.HealthCheck";

    /// <summary>
    /// Key of the keyed hash that turns a target into an opaque sticky-cookie value. Null (the default) lets the host
    /// choose (<see cref="UpstreamRegistry.UseStickyKey"/>): Lb.AspNetCore uses the node's secret persisted in its data
    /// directory, and in a cluster the secret replicated with the desired state, so every member issues and honours the
    /// same cookies. When set, it always wins (give every node the same one). At least 16 bytes.
    /// </summary>
    public byte[]? StickyCookieKey { get; set; }
}
