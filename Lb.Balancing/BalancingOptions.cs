namespace Lb.Balancing;

/// <summary>Options of the balancing package (<c>AddBalancing(o =&gt; ...)</c>).</summary>
public sealed class BalancingOptions
{
    /// <summary>The name of the <see cref="System.Net.Http.IHttpClientFactory"/> client active health probes use.</summary>
    public const string HealthCheckHttpClientName = "Lb.HealthCheck";

    /// <summary>
    /// Key of the keyed hash that turns a target into an opaque sticky-cookie value. Null (the default) uses a
    /// random key per process, which is fine for a single node; in a cluster every node must be given the
    /// same key, otherwise a client pinned by one node is re-pinned by the next. At least 16 bytes.
    /// </summary>
    public byte[]? StickyCookieKey { get; set; }
}
