namespace Lb.Core.Node;

/// <summary>Who a clustered node is, as recorded in <c>node.json</c> (seed contract §7.1).</summary>
/// <param name="NodeId">Node id (letters, digits, <c>.</c>, <c>_</c>, <c>-</c>).</param>
/// <param name="BindAddr">Address the Raft transport binds, <c>host:port</c>.</param>
/// <param name="AdvertiseAddr">Address other members reach this node at, <c>host:port</c>.</param>
public sealed record NodeIdentity(string NodeId, string? BindAddr, string? AdvertiseAddr);
