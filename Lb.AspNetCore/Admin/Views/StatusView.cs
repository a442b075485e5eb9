using System.Text.Json.Serialization;
using Lb.Core.Json;
using Lb.Core.Runtime;

namespace Lb.AspNetCore.Admin;

// GET /api/status.

internal sealed record StatusView(StatusNode Node, StatusRaft Raft, StatusVip Vip, StatusRuntime Runtime);

internal sealed record StatusListeners(IReadOnlyList<string> Proxy, IReadOnlyList<string> Admin);

internal sealed record StatusNode
{
    public string? Id { get; init; }
    public required string ProxyListenAddr { get; init; }
    public required string DashboardListenAddr { get; init; }
    /// <summary>What the server really bound, by role (URLs); absent before it has bound.</summary>
    public StatusListeners? Listeners { get; init; }
    public required string AppliedAt { get; init; }
    public required StatusProjection Projection { get; init; }
    public long Version { get; init; }
    public string? ContentHash { get; init; }
    public string? Store { get; init; }
}

/// <summary>
/// How the desired state became the served runtime: <c>ok</c>, or <c>error</c> while the latest version seen could
/// not be built (the node keeps serving <c>version</c>) with the failed version, when and why; <c>failures</c>
/// counts failed builds since the process started.
/// </summary>
internal sealed record StatusProjection(string Status, string? LastError = null, long? FailedVersion = null, string? FailedAt = null, long? Failures = null)
{
    public static StatusProjection Of(IRuntimeApplyStatus runtime)
    {
        var failures = runtime.FailureCount;
        return runtime.LastFailure is { } failure
            ? new StatusProjection("error", failure.Error, failure.Version, Rfc3339.Format(failure.At), failures)
            : new StatusProjection("ok", Failures: failures > 0 ? failures : null);
    }
}

internal sealed record StatusRaft
{
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public bool Enabled { get; init; }
    public required string State { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public bool IsLeader { get; init; }
    public string? LeaderId { get; init; }
    public string? LeaderAddress { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public bool HasLeader { get; init; }
    public required string QuorumStatus { get; init; }
}

internal sealed record StatusVip
{
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public bool Enabled { get; init; }
    public string? Interface { get; init; }
    public string? Address { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public bool Owned { get; init; }
    public string? LastError { get; init; }
    public string? LastTransitionAt { get; init; }
}

internal sealed record StatusRuntime(int RouteCount, int UpstreamPoolCount, int TargetCount, int HealthyTargetCount, int UnhealthyTargetCount);
