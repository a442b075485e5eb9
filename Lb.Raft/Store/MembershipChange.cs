namespace Lb.Raft.Store;

/// <summary>How a membership change ended.</summary>
internal enum MembershipChange
{
    Done,
    NotLeader,
    UnknownMember,
    /// <summary>The leader cannot remove itself; remove it from another node after a new leader is elected.</summary>
    IsLeader,
    Failed,
}
