using System.Text.Json.Serialization;

namespace Lb.Core.Spec;

/// <summary>A pool of upstream targets with optional active and passive health checking.</summary>
public sealed record UpstreamPoolSpec
{
    /// <summary>Targets in configuration order. In JSON each is <c>"host:port"</c> or <c>{"address":..., "weight":...}</c>.</summary>
    public IReadOnlyList<UpstreamSpec> Upstreams { get; init; } = [];

    /// <summary>Active health check; absent means targets are healthy unless passive health ejects them.</summary>
    public HealthCheckSpec? HealthCheck { get; init; }

    /// <summary>Passive health (outlier ejection) options (Lb extension); absent means the defaults.</summary>
    public PassiveHealthSpec? PassiveHealth { get; init; }

    /// <summary>Time to establish a TCP connection to a target, as a Go duration (Lb extension; default 3s).</summary>
    public Duration? ConnectTimeout { get; init; }

    /// <summary>Time a target has to start its response, as a Go duration (Lb extension; default 30s).</summary>
    public Duration? ResponseTimeout { get; init; }

    /// <summary>
    /// Slow start, as a Go duration (Lb extension; absent means none): a target that comes back (healthy again, or
    /// out of <c>maint</c>/<c>drain</c>) ramps its weight from a tenth to full over this time.
    /// </summary>
    public Duration? SlowStart { get; init; }

    /// <summary>
    /// Requests each target of the pool serves at once (Lb extension; absent: no limit). An upstream's own
    /// <see cref="UpstreamSpec.MaxConnections"/> overrides it. A request that finds every eligible target at its limit
    /// waits in the pool's queue (HAProxy's server <c>maxconn</c>).
    /// </summary>
    public int? MaxConnections { get; init; }

    /// <summary>Requests that may wait for a free target at once (Lb extension; default 1000 when a limit is set; 0: none wait, 503 at once).</summary>
    public int? QueueSize { get; init; }

    /// <summary>How long a request may wait in the queue before 503, as a Go duration (Lb extension; default the pool's connect timeout, as in HAProxy).</summary>
    public Duration? QueueTimeout { get; init; }

    /// <summary>Default of <see cref="QueueSize"/>.</summary>
    public const int DefaultQueueSize = 1000;

    /// <summary>True when the pool or one of its upstreams sets <c>max_connections</c>.</summary>
    [JsonIgnore]
    internal bool HasConnectionLimits => MaxConnections is not null || Upstreams.Any(u => u.MaxConnections is not null);
}

/// <summary>One upstream target.</summary>
/// <param name="Address"><c>host:port</c> or <c>[ipv6]:port</c>.</param>
/// <param name="Weight">Relative share of traffic (1..1000); 1 unless configured.</param>
public sealed record UpstreamSpec(string Address, int Weight = 1)
{
    /// <summary>The default weight.</summary>
    public const int DefaultWeight = 1;

    /// <summary>
    /// The operator's state of the target (<see cref="TargetStates"/>): <c>ready</c> (absent), <c>drain</c> (no new
    /// requests or sticky sessions; in-flight requests and existing sticky clients finish) or <c>maint</c> (out).
    /// </summary>
    public string? State { get; init; }

    /// <summary>The state with the absent default resolved.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string EffectiveState => string.IsNullOrEmpty(State) ? TargetStates.Ready : State;

    /// <summary>Requests this target serves at once, overriding the pool's <see cref="UpstreamPoolSpec.MaxConnections"/> (Lb extension).</summary>
    public int? MaxConnections { get; init; }

    /// <summary>A target with the default weight.</summary>
    public static implicit operator UpstreamSpec(string address) => new(address);

    /// <summary>Creates a target with the default weight.</summary>
    public static UpstreamSpec FromString(string address) => new(address);
}

/// <summary>Operator states of a target.</summary>
public static class TargetStates
{
    /// <summary>Takes traffic (the default).</summary>
    public const string Ready = "ready";
    /// <summary>Takes no new requests and no new sticky sessions; in-flight requests and existing sticky clients finish.</summary>
    public const string Drain = "drain";
    /// <summary>Out of service: takes nothing.</summary>
    public const string Maint = "maint";

    /// <summary>The state an unknown <paramref name="given"/> most likely meant (<c>maintenance</c> → <c>maint</c>), or null.</summary>
    public static string? Suggest(string given)
    {
        ArgumentNullException.ThrowIfNull(given);
        var lower = given.Trim().ToLowerInvariant();
        return lower.StartsWith("maint", StringComparison.Ordinal) || lower is "down" or "disabled" or "off" ? Maint
            : lower.StartsWith("drain", StringComparison.Ordinal) ? Drain
            : lower is "up" or "enabled" or "on" or "active" ? Ready
            : Validation.Suggestions.Closest(given, [Ready, Drain, Maint]);
    }
}

/// <summary>Active HTTP health check of a pool.</summary>
public sealed record HealthCheckSpec
{
    /// <summary>
    /// <c>http</c> (default: GET <see cref="Path"/>, expect <see cref="ExpectStatus"/>) or <c>tcp</c> (a target is healthy
    /// when it accepts a TCP connection; <see cref="Path"/> and <see cref="ExpectStatus"/> stay unset) (Lb extension).
    /// </summary>
    public string? Type { get; init; }

    /// <summary>Path probed with GET; must start with <c>/</c>. Unset for <c>tcp</c> checks.</summary>
    public string Path { get; init; } = "";

    /// <summary>Time between probes of one target, as a Go duration.</summary>
    public Duration Interval { get; init; }

    /// <summary>Deadline of one probe, as a Go duration; shorter than the interval.</summary>
    public Duration Timeout { get; init; }

    /// <summary>The status code a healthy target answers with (exact match).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public int ExpectStatus { get; init; }

    /// <summary>Consecutive successful probes that make an unhealthy target healthy (Lb extension; default 2).</summary>
    public int? Rise { get; init; }

    /// <summary>Consecutive failed probes that make a healthy target unhealthy (Lb extension; default 3).</summary>
    public int? Fall { get; init; }

    /// <summary>True for a TCP connect check (<see cref="Type"/> <c>tcp</c>).</summary>
    [JsonIgnore]
    public bool IsTcp => Type == HealthCheckTypes.Tcp;

    /// <summary>Default of <see cref="Rise"/>.</summary>
    public const int DefaultRise = 2;

    /// <summary>Default of <see cref="Fall"/>.</summary>
    public const int DefaultFall = 3;
}

/// <summary>Health check type names.</summary>
public static class HealthCheckTypes
{
    /// <summary>An HTTP GET that must answer the expected status (the default).</summary>
    public const string Http = "http";
    /// <summary>A TCP connect that must succeed within the timeout.</summary>
    public const string Tcp = "tcp";
}

/// <summary>Passive health: targets that keep failing live traffic are ejected for a while.</summary>
public sealed record PassiveHealthSpec
{
    /// <summary>Consecutive failures that eject a target; 0 turns passive health off (default 5).</summary>
    public int? ConsecutiveFailures { get; init; }

    /// <summary>Base ejection time as a Go duration (default 30s); repeated ejections back off up to 10×.</summary>
    public Duration? EjectionTime { get; init; }

    /// <summary>Whether 5xx responses count as failures (default false: only connection errors and timeouts do).</summary>
    public bool? Count5xx { get; init; }

    /// <summary>Default of <see cref="ConsecutiveFailures"/>.</summary>
    public const int DefaultConsecutiveFailures = 5;

    /// <summary>Default of <see cref="EjectionTime"/>.</summary>
    public static readonly TimeSpan DefaultEjectionTime = TimeSpan.FromSeconds(30);
}

/// <summary>The names of the balancing algorithms.</summary>
public static class Algorithms
{
    /// <summary>Cycles through healthy targets (the default).</summary>
    public const string RoundRobin = "round_robin";
    /// <summary>Pins a client to a target with a cookie.</summary>
    public const string StickyCookie = "sticky_cookie";
    /// <summary>Consistent hash of the connection's 5-tuple.</summary>
    public const string FiveTupleHash = "5_tuple_hash";
    /// <summary>The healthy target with the fewest in-flight requests.</summary>
    public const string LeastConnection = "least_connection";

    /// <summary>Consistent hash of the client address (HAProxy's <c>balance source</c>).</summary>
    public const string Source = "source";
    /// <summary>Consistent hash of the request path (HAProxy's <c>balance uri</c>).</summary>
    public const string Uri = "uri";
    /// <summary>Consistent hash of one query parameter, named by <see cref="RouteSpec.HashKey"/> (HAProxy's <c>balance url_param</c>).</summary>
    public const string UrlParam = "url_param";
    /// <summary>Consistent hash of one request header, named by <see cref="RouteSpec.HashKey"/> (HAProxy's <c>balance hdr(name)</c>).</summary>
    public const string Header = "hdr";
    /// <summary>Power of two random choices: of two weighted random targets, the one with fewer in-flight requests.</summary>
    public const string Random = "random";

    /// <summary>The contract's algorithm names, what <see cref="RouteSpec.Algorithm"/> accepts where no policies are registered.</summary>
    public static IReadOnlyList<string> All { get; } = [RoundRobin, StickyCookie, FiveTupleHash, LeastConnection];
}
