using System.Text.Json.Serialization;

namespace Lb.AspNetCore.Admin;

// GET /api/runtime.

internal sealed record RuntimeView(string AppliedAt, long Version, IReadOnlyList<RuntimeRouteView> Routes, IReadOnlyList<RuntimePoolView> Upstreams)
{
    /// <summary>Absent when the configuration has no enabled TCP listener.</summary>
    public IReadOnlyList<RuntimeTcpListenerView>? TcpListeners { get; init; }
}

/// <summary>
/// One enabled TCP listener: <c>bound</c> is the address it listens on (the real port when <c>listen</c> said 0),
/// null with <c>error</c> set when it could not bind; <c>state</c> is <c>listening</c>, <c>pending</c> or <c>failed</c>.
/// </summary>
internal sealed record RuntimeTcpListenerView
{
    public required string Id { get; init; }
    public required string Listen { get; init; }
    public string? Bound { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public int Port { get; init; }
    public required string State { get; init; }
    public string? Error { get; init; }
    public required string UpstreamPool { get; init; }
    public required string Algorithm { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public int OpenConnections { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public long AcceptedConnections { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public long RejectedConnections { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public long FailedConnections { get; init; }
    public int MaxConnections { get; init; }
    public required string ConnectTimeout { get; init; }
    public required string IdleTimeout { get; init; }
}

internal sealed record RuntimeRouteView(string Id, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] bool Enabled, IReadOnlyList<string> Hosts, RuntimePathView Path, string Algorithm, string UpstreamPool);

internal sealed record RuntimePathView(string Kind, string? Value);

internal sealed record RuntimePoolView(string Id, IReadOnlyList<RuntimeTargetView> Targets, RuntimeHealthCheckView? HealthCheck)
{
    /// <summary>The pool's queue; absent when no target has <c>max_connections</c> (nothing can queue).</summary>
    public RuntimeQueueView? Queue { get; init; }
}

/// <summary>
/// The queue of a pool with connection limits: <c>queue_size</c> and <c>queue_timeout</c> as effective, <c>queued</c>
/// the requests waiting now, <c>max_queued</c> the most that have waited at once.
/// </summary>
internal sealed record RuntimeQueueView(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] int QueueSize,
    string QueueTimeout,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] int Queued,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] int MaxQueued);

internal sealed record RuntimeTargetView
{
    public required string Address { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public bool Healthy { get; init; }
    public string? LastCheckedAt { get; init; }
    public string? LastError { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public int ActiveConnections { get; init; }
    public int Weight { get; init; }
    /// <summary>The effective <c>max_connections</c> (the upstream's own or the pool's); absent when unlimited.</summary>
    public int? MaxConnections { get; init; }
    public int ConsecutiveFailures { get; init; }
    public string? EjectedUntil { get; init; }
    public RuntimeCheckProgressView? CheckProgress { get; init; }
    /// <summary><c>drain</c> or <c>maint</c>; absent when ready.</summary>
    public string? State { get; init; }
}

/// <summary>A rise/fall streak under way: <c>{"direction":"rising","count":1,"needed":2,"summary":"1 of 2 checks passed"}</c>.</summary>
internal sealed record RuntimeCheckProgressView(string Direction, int Count, int Needed, string Summary);

internal sealed record RuntimeHealthCheckView(string Path, string Interval, string Timeout, int ExpectStatus, int Rise, int Fall);
