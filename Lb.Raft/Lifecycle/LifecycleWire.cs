using System.Text.Json.Serialization;
using Lb.Core.Spec;

namespace Lb.Raft.Lifecycle;

/// <summary><c>POST /api/cluster/bootstrap</c> (seed contract §6.9).</summary>
internal sealed record BootstrapRequest
{
    public string? NodeId { get; init; }
    public string? RaftBindAddr { get; init; }
    public string? RaftAdvertiseAddr { get; init; }
    public RaftTimingPolicy? RaftTiming { get; init; }
    public string? VipInterface { get; init; }
    public VipPolicy? Vip { get; init; }
}

/// <summary><c>POST /api/node/join-cluster</c> (§6.10) plus Lb's <c>force</c>.</summary>
internal sealed record JoinClusterRequest
{
    public string? NodeId { get; init; }
    public string? RaftAdvertiseAddr { get; init; }
    public string? RaftBindAddr { get; init; }
    public string? VipInterface { get; init; }
    public IReadOnlyList<string>? Peers { get; init; }
    public bool Force { get; init; }
}

/// <summary><c>POST /api/cluster/join</c> (§6.11), sent by a joining node to a member.</summary>
internal sealed record MemberJoinRequest
{
    public string? NodeId { get; init; }
    public string? RaftAddress { get; init; }
}

/// <summary><c>POST /api/cluster/remove</c>: the member's node id (or Raft address).</summary>
internal sealed record MemberRemoveRequest
{
    public string? NodeId { get; init; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(BootstrapRequest))]
[JsonSerializable(typeof(JoinClusterRequest))]
[JsonSerializable(typeof(MemberJoinRequest))]
[JsonSerializable(typeof(MemberRemoveRequest))]
internal sealed partial class LifecycleJsonContext : JsonSerializerContext;
