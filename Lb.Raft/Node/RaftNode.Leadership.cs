using DotNext.Net.Cluster;
using DotNext.Net.Cluster.Consensus.Raft;
using Lb.Raft.Membership;
using Microsoft.Extensions.Logging;

namespace Lb.Raft.Node;

/// <summary>Who leads, as this node sees it, with the leader's node id and admin URL from its member metadata.</summary>
internal sealed record LeaderInfo(string? NodeId, string RaftAddress, string? AdminUrl, bool IsLocal);

internal sealed partial class RaftNode
{
    private LeaderInfo? _leader;

    /// <summary>The current leader, or null while there is none (an election, or no quorum).</summary>
    public LeaderInfo? Leader => _cluster.Leader is null ? null : Volatile.Read(ref _leader);

    /// <summary>True while this node leads and has committed an entry of its term.</summary>
    public bool IsLeader => !IsStopped && !_cluster.LeadershipToken.IsCancellationRequested;

    public long Term => _cluster.Term;

    /// <summary>
    /// Completes with a token that stays uncancelled while this node leads (it is cancelled on step-down, which DotNext
    /// does when a heartbeat round cannot reach a majority).
    /// </summary>
    public Task<CancellationToken> WaitForLeadershipAsync(CancellationToken cancellationToken) =>
        _cluster.WaitForLeadershipAsync(cancellationToken);

    /// <summary>Waits until some leader is known, or <paramref name="cancellationToken"/> fires.</summary>
    public async ValueTask<LeaderInfo> WaitForLeaderAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_cluster.Leader is RaftClusterMember member)
            {
                var info = await DescribeAsync(member, cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref _leader, info);
                return info;
            }
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }

    private IDisposable? _rounds;

    /// <summary>
    /// Raised, synchronously inside DotNext's transition to leader, when this node has just won an election, with
    /// DotNext's lease token of the new leader state (cancelled when DotNext steps this node down, or when its own
    /// lease runs out after a renewal). Unlike <see cref="WaitForLeadershipAsync"/> it does not wait for the term's
    /// first entry to be committed (DotNext's first heartbeat round of a new term does not commit it when a member is
    /// down: it waits for that member's timeout, and the entry is committed one period later).
    /// </summary>
    public event Action<CancellationToken>? Elected;

    /// <summary>
    /// Raised on DotNext's heartbeat thread after each heartbeat round this node led and a majority acknowledged, with
    /// the leader's lease token and the time since the round started (<see cref="LeaderRounds"/>).
    /// </summary>
    public event Action<CancellationToken, TimeSpan>? RoundAcknowledged;

    private void OnRoundAcknowledged(TimeSpan elapsed)
    {
        if (IsStopped || RoundAcknowledged is not { } handler || !_cluster.TryGetLeaseToken(out var lease))
        {
            return;
        }
        handler(lease, elapsed);
    }

    private void OnLeaderChanged(ICluster cluster, IClusterMember? leader)
    {
        if (leader is not RaftClusterMember member)
        {
            Volatile.Write(ref _leader, null);
            LogNoLeader(_logger, Settings.NodeId, Term);
            return;
        }
        var known = Describe(member);
        Volatile.Write(ref _leader, known);
        LogLeader(_logger, Settings.NodeId, known.NodeId ?? "?", known.RaftAddress, Term);
        if (known.IsLocal && Elected is { } elected && !IsStopped)
        {
            // The state is already the new leader's (DotNext sets the leader after switching state).
            if (_cluster.TryGetLeaseToken(out var lease))
            {
                elected(lease);
            }
        }
        if (known.IsLocal && !IsStopped)
        {
            // DotNext's first round of a term does not commit the term's first entry (see Elected); without this the
            // second round, which does, starts a heartbeat period later, and writes wait for that commit.
            _ = ForceSecondRoundAsync();
        }
        if (known.NodeId is null && !IsStopped)
        {
            _ = RefreshLeaderAsync(member);
        }
    }

    private async Task ForceSecondRoundAsync()
    {
        try
        {
            await Task.Yield(); // not inside DotNext's transition
            await _cluster.ForceReplicationAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NotLeaderException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // Stepped down or stopping again: nothing to speed up.
        }
    }

    private async Task RefreshLeaderAsync(RaftClusterMember member)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            var info = await DescribeAsync(member, timeout.Token).ConfigureAwait(false);
            if (ReferenceEquals(_cluster.Leader, member))
            {
                Volatile.Write(ref _leader, info);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogMetadataFailed(_logger, ex, member.EndPoint.ToString() ?? "?");
        }
    }

    private LeaderInfo Describe(RaftClusterMember member)
    {
        if (!member.IsRemote)
        {
            return new LeaderInfo(Settings.NodeId, RaftAddress.Format(Settings.Advertise), Settings.AdminUrl, IsLocal: true);
        }
        var metadata = member.TryGetMetadata();
        return new LeaderInfo(metadata?.GetValueOrDefault(MemberMetadata.NodeIdKey), RaftAddress.Format(member.EndPoint),
            metadata?.GetValueOrDefault(MemberMetadata.AdminUrlKey), IsLocal: false);
    }

    private async ValueTask<LeaderInfo> DescribeAsync(RaftClusterMember member, CancellationToken cancellationToken)
    {
        var known = Describe(member);
        if (known.IsLocal || known.NodeId is not null)
        {
            return known;
        }
        var metadata = await member.GetMetadataAsync(refresh: false, cancellationToken).ConfigureAwait(false);
        return known with
        {
            NodeId = metadata.GetValueOrDefault(MemberMetadata.NodeIdKey),
            AdminUrl = metadata.GetValueOrDefault(MemberMetadata.AdminUrlKey),
        };
    }

    [LoggerMessage(EventId = 4012, Level = LogLevel.Information, Message = "Node {NodeId}: leader is {LeaderId} at {LeaderAddress} (term {Term})")]
    private static partial void LogLeader(ILogger logger, string nodeId, string leaderId, string leaderAddress, long term);

    [LoggerMessage(EventId = 4013, Level = LogLevel.Information, Message = "Node {NodeId}: no leader (term {Term})")]
    private static partial void LogNoLeader(ILogger logger, string nodeId, long term);

    [LoggerMessage(EventId = 4014, Level = LogLevel.Debug, Message = "Reading the metadata of member {Address} failed")]
    private static partial void LogMetadataFailed(ILogger logger, Exception exception, string address);
}
