namespace Lb.Raft.Membership;

/// <summary>Keys of the metadata each member publishes through DotNext (read by the others on demand).</summary>
internal static class MemberMetadata
{
    public const string NodeIdKey = "lb.node_id";
    public const string AdminUrlKey = "lb.admin_url";
}
