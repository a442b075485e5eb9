using System.Text.Json.Serialization;

namespace Lb.Core.Spec;

/// <summary>
/// The editable proxy configuration: routes and upstream pools. This is the document that
/// <c>GET/PUT /api/config</c> exchange and that the cluster replicates.
/// </summary>
/// <remarks>
/// Instances coming out of <see cref="Json.DesiredStateJson"/> are normalised: collections are never null and
/// pools are ordered by id (ordinal), so serialising them is deterministic.
/// </remarks>
public sealed record ProxyConfig
{
    // Declared before Empty: static initialisers run in textual order.
    internal static readonly IReadOnlyDictionary<string, UpstreamPoolSpec> EmptyPools =
        new SortedDictionary<string, UpstreamPoolSpec>(StringComparer.Ordinal);

    /// <summary>An empty configuration: no routes, no pools. Every request gets 404.</summary>
    public static ProxyConfig Empty { get; } = new();

    /// <summary>Routes in declaration order.</summary>
    public IReadOnlyList<RouteSpec> Routes { get; init; } = [];

    /// <summary>Upstream pools keyed by pool id.</summary>
    public IReadOnlyDictionary<string, UpstreamPoolSpec> UpstreamPools { get; init; } = EmptyPools;

    /// <summary>TCP listeners (Lb extension); null (absent) when there are none, so older documents hash the same.</summary>
    public IReadOnlyList<TcpListenerSpec>? TcpListeners { get; init; }
}

/// <summary>One route: which requests it matches and which pool serves them.</summary>
public sealed record RouteSpec
{
    /// <summary>Unique route id (case-sensitive).</summary>
    public string Id { get; init; } = "";

    /// <summary>Disabled routes stay in the table but never match. Missing in JSON means <c>false</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public bool Enabled { get; init; }

    /// <summary>Balancing algorithm name (<see cref="Algorithms"/>); empty means <c>round_robin</c>.</summary>
    public string? Algorithm { get; init; }

    /// <summary>Host and path conditions.</summary>
    public RouteMatchSpec Match { get; init; } = new();

    /// <summary>Id of the pool in <see cref="ProxyConfig.UpstreamPools"/> that serves this route.</summary>
    public string UpstreamPool { get; init; } = "";

    /// <summary>Options for <c>sticky_cookie</c> routes (Lb extension); absent means the defaults.</summary>
    public StickyCookieSpec? StickyCookie { get; init; }

    /// <summary>
    /// What a keyed hash policy hashes (Lb extension): the query parameter of <c>url_param</c>, the request header of
    /// <c>hdr</c>. Other algorithms take none.
    /// </summary>
    public string? HashKey { get; init; }

    /// <summary>Time to connect to a target for this route, overriding the pool's <c>connect_timeout</c> (Lb extension).</summary>
    public Duration? ConnectTimeout { get; init; }

    /// <summary>
    /// Time the target may stay silent — before its response head and between reads of its body — overriding the
    /// pool's <c>response_timeout</c>; then 504 (Lb extension; HAProxy's <c>timeout server</c>).
    /// </summary>
    public Duration? ServerTimeout { get; init; }

    /// <summary>
    /// Time the client may stay silent while it sends the request body; then 408 (Lb extension; HAProxy's
    /// <c>timeout client</c>). Absent: the listener's minimum data rate applies, as before.
    /// </summary>
    public Duration? ClientTimeout { get; init; }

    /// <summary>Largest request body this route accepts, in bytes; larger ones get 413 (Lb extension; absent: the listener's limit).</summary>
    public long? MaxRequestBodySize { get; init; }

    /// <summary>Most request header fields this route accepts; more get 431 (Lb extension; absent: the listener's limit, 100).</summary>
    public int? MaxRequestHeaderCount { get; init; }

    /// <summary>Largest total size of the request header fields (names and values) this route accepts, in bytes; larger get 431 (Lb extension; absent: the listener's limit, 32 KiB).</summary>
    public int? MaxRequestHeadersSize { get; init; }

    /// <summary>The algorithm with the empty default resolved.</summary>
    [JsonIgnore]
    public string EffectiveAlgorithm => string.IsNullOrEmpty(Algorithm) ? Algorithms.RoundRobin : Algorithm;
}

/// <summary>Host and path conditions of a route.</summary>
public sealed record RouteMatchSpec
{
    /// <summary>Host names (exact, case-insensitive) or wildcards such as <c>*.example.com</c>.</summary>
    public IReadOnlyList<string> Hosts { get; init; } = [];

    /// <summary>Path condition; absent matches every path.</summary>
    public PathMatchSpec? Path { get; init; }
}

/// <summary>A path condition.</summary>
public sealed record PathMatchSpec
{
    /// <summary><c>exact</c>, <c>prefix</c> or <c>regex</c> (<see cref="PathMatchTypes"/>).</summary>
    public string Type { get; init; } = "";

    /// <summary>The path, prefix (ending in <c>/</c>) or regular expression (RE2 dialect).</summary>
    public string Value { get; init; } = "";
}

/// <summary>Path match type names.</summary>
public static class PathMatchTypes
{
    /// <summary>The path equals the value.</summary>
    public const string Exact = "exact";
    /// <summary>The path is the value or lies below it, on segment boundaries.</summary>
    public const string Prefix = "prefix";
    /// <summary>An unanchored regular-expression search over the path.</summary>
    public const string Regex = "regex";
}

/// <summary>Sticky-cookie options of a route (Lb extension to the reference schema).</summary>
public sealed record StickyCookieSpec
{
    /// <summary>
    /// How the cookie carries the target (<see cref="StickyCookieModes"/>): <c>insert</c> (default; Lb sets a cookie of
    /// its own), <c>prefix</c> (Lb prepends the target's key to the application's cookie <see cref="Name"/>, such as
    /// <c>JSESSIONID</c>, and strips it on the way in) or <c>rewrite</c> (Lb replaces the value of the cookie
    /// <see cref="Name"/> the application sets with the target's key). HAProxy's <c>cookie NAME insert|prefix|rewrite</c>.
    /// </summary>
    public string? Mode { get; init; }

    /// <summary>The cookie name: optional for <c>insert</c> (default <c>rp_sticky_&lt;route id&gt;</c>), required otherwise.</summary>
    public string? Name { get; init; }

    /// <summary>Adds <c>HttpOnly</c> (default true for <c>insert</c>; for <c>prefix</c>/<c>rewrite</c> it is added to the application's cookie when true).</summary>
    public bool? HttpOnly { get; init; }

    /// <summary>
    /// What the cookie holds: <c>opaque</c> (default; a keyed hash that does not reveal the backend) or
    /// <c>address</c> (the backend address verbatim, as the reference implementation does).
    /// </summary>
    public string? Value { get; init; }

    /// <summary>Adds the <c>Secure</c> attribute.</summary>
    public bool Secure { get; init; }

    /// <summary><c>lax</c>, <c>strict</c> or <c>none</c>; absent sends no SameSite attribute.</summary>
    public string? SameSite { get; init; }

    /// <summary>Cookie lifetime as a Go duration; absent makes it a session cookie.</summary>
    public Duration? MaxAge { get; init; }
}

/// <summary>Sticky cookie value modes.</summary>
public static class StickyCookieValueModes
{
    /// <summary>An opaque token derived from the target address.</summary>
    public const string Opaque = "opaque";
    /// <summary>The target address verbatim (reference behaviour).</summary>
    public const string Address = "address";
}

/// <summary>Sticky cookie modes.</summary>
public static class StickyCookieModes
{
    /// <summary>Lb sets a cookie of its own naming the target.</summary>
    public const string Insert = "insert";
    /// <summary>Lb prefixes the application's cookie with the target's key (<c>key~value</c>) and strips it on the way in.</summary>
    public const string Prefix = "prefix";
    /// <summary>Lb replaces the value of a cookie the application sets with the target's key.</summary>
    public const string Rewrite = "rewrite";
}
