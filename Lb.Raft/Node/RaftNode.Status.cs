using DotNext.Net.Cluster;
using DotNext.Net.Cluster.Consensus.Raft;
using Lb.Raft.Membership;

namespace Lb.Raft.Node;

/// <summary>
/// One member as this node sees it. Reachable is true/false when this node observes the member (the leader observes
/// all; a follower itself and its leader), null otherwise.
/// </summary>
internal sealed record MemberView(string? NodeId, string Address, bool IsLeader, bool IsLocal, bool? Reachable);

/// <summary>This node's Raft position, read without blocking.</summary>
internal sealed record RaftView(string State, long Term, long LastLogIndex, long CommitIndex, long AppliedIndex, LeaderInfo? Leader, IReadOnlyList<MemberView> Members);

internal sealed partial class RaftNode
{
    /// <summary>A consistent-enough picture for status pages (each value is read once).</summary>
    public RaftView Describe()
    {
        var leader = Leader;
        var members = new List<MemberView>();
        foreach (var member in _cluster.Members)
        {
            var metadata = member.IsRemote ? member.TryGetMetadata() : null;
            if (member.IsRemote && metadata is null && !IsStopped)
            {
                _ = WarmMetadataAsync(member);
            }
            var id = member.IsRemote ? metadata?.GetValueOrDefault(MemberMetadata.NodeIdKey) : Settings.NodeId;
            members.Add(new MemberView(id, RaftAddress.Format(member.EndPoint), member.IsLeader, !member.IsRemote, Reachability(member, leader)));
        }
        members.Sort((a, b) => string.CompareOrdinal(a.NodeId ?? a.Address, b.NodeId ?? b.Address));
        var state = IsStopped ? "shutdown"
            : IsLeader ? "leader"
            : leader is not null ? "follower"
            : members.Exists(m => m.IsLocal) ? "candidate"
            : "unknown";
        return new RaftView(state, Term, _wal.LastEntryIndex, _wal.LastCommittedEntryIndex, _wal.LastAppliedIndex, leader, members);
    }

    private bool? Reachability(RaftClusterMember member, LeaderInfo? leader)
    {
        if (!member.IsRemote)
        {
            return !IsStopped;
        }
        if (IsLeader)
        {
            // The leader's replication rounds keep DotNext's member status current.
            return member.Status switch
            {
                ClusterMemberStatus.Available => true,
                ClusterMemberStatus.Unavailable => false,
                _ => null,
            };
        }
        // A follower only hears from the leader: it knows one while heartbeats arrive and forgets it on election timeout.
        if (member.IsLeader)
        {
            return leader is not null;
        }
        return member.Status == ClusterMemberStatus.Unavailable ? false : null;
    }

    /// <summary>Like <see cref="Describe()"/>, but first asks members whose node id is not known yet (bounded wait).</summary>
    public async Task<RaftView> DescribeAsync(TimeSpan budget, CancellationToken cancellationToken)
    {
        var unknown = _cluster.Members.Where(m => m.IsRemote && m.TryGetMetadata() is null).ToList();
        if (unknown.Count > 0 && !IsStopped)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(budget);
            await Task.WhenAll(unknown.Select(async m =>
            {
                try
                {
                    await m.GetMetadataAsync(refresh: false, cts.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // Unreachable: shown by address.
                }
            })).ConfigureAwait(false);
        }
        return Describe();
    }

    /// <summary>
    /// True when this leader reached a majority within <paramref name="timeout"/> (a forced heartbeat round);
    /// false on a follower or without a quorum.
    /// </summary>
    public async Task<bool> VerifyQuorumAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!IsLeader)
        {
            return false;
        }
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await _cluster.ApplyReadBarrierAsync(ReadBarrierType.Strong, cts.Token).ConfigureAwait(false);
            return IsLeader;
        }
        catch (Exception ex) when (ex is OperationCanceledException or NotLeaderException or QuorumUnreachableException)
        {
            return false;
        }
    }

    /// <summary>The member whose node id or Raft address is <paramref name="member"/>, asking members for their ids if needed.</summary>
    public async Task<RaftClusterMember?> FindMemberAsync(string member, CancellationToken cancellationToken)
    {
        foreach (var candidate in _cluster.Members)
        {
            if (RaftAddress.Format(candidate.EndPoint) == member)
            {
                return candidate;
            }
            if (!candidate.IsRemote)
            {
                if (Settings.NodeId == member)
                {
                    return candidate;
                }
                continue;
            }
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(TimeSpan.FromSeconds(2));
            try
            {
                var metadata = candidate.TryGetMetadata() ?? await candidate.GetMetadataAsync(refresh: false, cts.Token).ConfigureAwait(false);
                if (metadata.GetValueOrDefault(MemberMetadata.NodeIdKey) == member)
                {
                    return candidate;
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException && !cancellationToken.IsCancellationRequested)
            {
                // Unreachable member: it can still be removed by its Raft address.
            }
        }
        return null;
    }

    private static async Task WarmMetadataAsync(RaftClusterMember member)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await member.GetMetadataAsync(refresh: false, cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Unreachable member: its id shows once it answers.
        }
    }
}
