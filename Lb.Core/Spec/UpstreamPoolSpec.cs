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
}

/// <summary>One upstream target.</summary>
/// <param name="Address"><c>host:port</c> or <c>[ipv6]:port</c>.</param>
/// <param name="Weight">Relative share of traffic (1..1000); 1 unless configured.</param>
public sealed record UpstreamSpec(string Address, int Weight = 1)
{
    /// <summary>The default weight.</summary>
    public const int DefaultWeight = 1;

    /// <summary>A target with the default weight.</summary>
    public static implicit operator UpstreamSpec(string address) => new(address);

    /// <summary>Creates a target with the default weight.</summary>
    public static UpstreamSpec FromString(string address) => new(address);
}

/// <summary>Active HTTP health check of a pool.</summary>
public sealed record HealthCheckSpec
{
    /// <summary>Path probed with GET; must start with <c>/</c>.</summary>
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

    /// <summary>Default of <see cref="Rise"/>.</summary>
    public const int DefaultRise = 2;

    /// <summary>Default of <see cref="Fall"/>.</summary>
    public const int DefaultFall = 3;
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

    /// <summary>Every algorithm name accepted in <see cref="RouteSpec.Algorithm"/>.</summary>
    public static IReadOnlyList<string> All { get; } = [RoundRobin, StickyCookie, FiveTupleHash, LeastConnection];
}
