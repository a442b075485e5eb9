using System.Text.Json.Serialization;

namespace Lb.AspNetCore.Admin;

// GET /api/runtime.

internal sealed record RuntimeView(string AppliedAt, long Version, IReadOnlyList<RuntimeRouteView> Routes, IReadOnlyList<RuntimePoolView> Upstreams);

internal sealed record RuntimeRouteView(string Id, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] bool Enabled, IReadOnlyList<string> Hosts, RuntimePathView Path, string Algorithm, string UpstreamPool);

internal sealed record RuntimePathView(string Kind, string? Value);

internal sealed record RuntimePoolView(string Id, IReadOnlyList<RuntimeTargetView> Targets, RuntimeHealthCheckView? HealthCheck);

internal sealed record RuntimeTargetView
{
    public required string Address { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public bool Healthy { get; init; }
    public string? LastCheckedAt { get; init; }
    public string? LastError { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public int ActiveConnections { get; init; }
    public int Weight { get; init; }
    public int ConsecutiveFailures { get; init; }
    public string? EjectedUntil { get; init; }
    public RuntimeCheckProgressView? CheckProgress { get; init; }
}

/// <summary>A rise/fall streak under way: <c>{"direction":"rising","count":1,"needed":2,"summary":"1 of 2 checks passed"}</c>.</summary>
internal sealed record RuntimeCheckProgressView(string Direction, int Count, int Needed, string Summary);

internal sealed record RuntimeHealthCheckView(string Path, string Interval, string Timeout, int ExpectStatus, int Rise, int Fall);
