using System.Text.Json.Serialization;

namespace Lb.Raft.Node;

/// <summary>
/// Who this node is in its cluster, persisted as <c>node.json</c> in the data directory (the contract's keys plus
/// Lb's <c>admin_url</c> and <c>removed</c>). Its presence is what marks the node as clustered across restarts.
/// </summary>
public sealed record NodeIdentity
{
    /// <summary>Node id (letters, digits, <c>.</c>, <c>_</c>, <c>-</c>).</summary>
    [JsonPropertyName("node_id")]
    public required string NodeId { get; init; }

    /// <summary>Address the Raft transport listens on, <c>host:port</c>.</summary>
    [JsonPropertyName("bind_addr")]
    public required string BindAddr { get; init; }

    /// <summary>Address the other members reach this node's Raft transport at, <c>host:port</c>.</summary>
    [JsonPropertyName("advertise_addr")]
    public required string AdvertiseAddr { get; init; }

    /// <summary>Base URL of this node's admin API, where followers forward writes when this node leads.</summary>
    [JsonPropertyName("admin_url")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? AdminUrl { get; init; }

    /// <summary>True once the node was removed from its cluster: it no longer starts Raft.</summary>
    [JsonPropertyName("removed")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Removed { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(NodeIdentity))]
internal sealed partial class NodeIdentityJsonContext : JsonSerializerContext;
