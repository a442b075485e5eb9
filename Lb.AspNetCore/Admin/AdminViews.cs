using System.Text.Json.Serialization;

namespace Lb.AspNetCore.Admin;

// Wire shapes of the admin API (seed contract §6). Property names become snake_case.

internal sealed record ApiError
{
    public required string Message { get; init; }
    public string? Code { get; init; }
    public string? LeaderAddress { get; init; }
    public IReadOnlyList<ApiFieldError>? Errors { get; init; }
}

internal sealed record ApiFieldError(string Field, string Message, string? Code = null, string? Hint = null);

internal sealed record StatusView(StatusNode Node, StatusRaft Raft, StatusVip Vip, StatusRuntime Runtime);

internal sealed record StatusNode
{
    public string? Id { get; init; }
    public required string ProxyListenAddr { get; init; }
    public required string DashboardListenAddr { get; init; }
    public required string AppliedAt { get; init; }
    public required StatusProjection Projection { get; init; }
    public long Version { get; init; }
    public string? ContentHash { get; init; }
    public string? Store { get; init; }
}

internal sealed record StatusProjection(string Status, string? LastError = null);

internal sealed record StatusRaft
{
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public bool Enabled { get; init; }
    public required string State { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public bool IsLeader { get; init; }
    public string? LeaderId { get; init; }
    public string? LeaderAddress { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public bool HasLeader { get; init; }
    public required string QuorumStatus { get; init; }

    public static StatusRaft Disabled { get; } = new() { State = "disabled", QuorumStatus = "disabled" };
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

internal sealed record ClusterView
{
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public bool Enabled { get; init; }
    public required string QuorumStatus { get; init; }
    public ClusterMemberRef Leader { get; init; } = new();
    public ClusterLocal Local { get; init; } = new();
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public IReadOnlyList<ClusterMember>? Members { get; init; }
    public ClusterRaftTiming? RaftTiming { get; init; }
    public string? Mode { get; init; }
    /// <summary>This node's VIP (extension; only when a VIP is configured).</summary>
    public StatusVip? Vip { get; init; }
}

internal sealed record ClusterRaftTiming(string? HeartbeatTimeout, string? ElectionTimeout, string? LeaderLeaseTimeout, string? CommitTimeout);

internal sealed record ClusterMemberRef
{
    public string? Id { get; init; }
    public string? Address { get; init; }
}

internal sealed record ClusterLocal
{
    public string? Id { get; init; }
    public string? Address { get; init; }
    public string? State { get; init; }
    public string? LastLogIndex { get; init; }
    public string? CommitIndex { get; init; }
    public string? AppliedIndex { get; init; }
    public string? Term { get; init; }
}

internal sealed record ClusterMember(string Id, string Address, string Role, bool IsLeader);

internal sealed record NodeClusterStatusView
{
    public required string State { get; init; }
    public string? NodeId { get; init; }
    public string? RaftAdvertiseAddr { get; init; }
    public required string RaftDataDir { get; init; }
    public string? LastError { get; init; }
    public string? Mode { get; init; }
}

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
}

internal sealed record RuntimeHealthCheckView(string Path, string Interval, string Timeout, int ExpectStatus, int Rise, int Fall);

internal sealed record ValidateView(bool Valid, IReadOnlyList<ApiFieldError> Errors, string? ContentHash);

internal sealed record ExplainView(string Host, string Path, string? MatchedRoute, string? UpstreamPool, string Reason, IReadOnlyList<ExplainCandidateView> Candidates);

internal sealed record ExplainCandidateView(string RouteId, string Outcome);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(StatusView))]
[JsonSerializable(typeof(ClusterView))]
[JsonSerializable(typeof(NodeClusterStatusView))]
[JsonSerializable(typeof(RuntimeView))]
[JsonSerializable(typeof(ValidateView))]
[JsonSerializable(typeof(ExplainView))]
internal sealed partial class AdminJsonContext : JsonSerializerContext
{
    /// <summary>Responses keep quotes and angle brackets readable; they are served as application/json, never HTML.</summary>
    public static AdminJsonContext Relaxed { get; } = new(new System.Text.Json.JsonSerializerOptions
    {
        PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
