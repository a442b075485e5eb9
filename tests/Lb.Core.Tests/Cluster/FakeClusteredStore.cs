using Lb.Core.Cluster;
using Lb.Core.Node;
using Lb.Core.Spec;
using Lb.Core.Store;

namespace Lb.Core.Tests.Cluster;

/// <summary>
/// An in-memory stand-in for the Raft store: it adopts a handed-over state, numbers later writes after it, lets the
/// test apply "replicated" writes and grant or revoke leadership, and reports itself as clustered.
/// </summary>
internal sealed class FakeClusteredStore : IDesiredStateStore, IClusterStatusView, ILeadershipView, IDisposable
{
    private readonly DesiredStateChangeSignal _signal;
    private readonly long _versionOffset;

    public FakeClusteredStore(VersionedDesiredState seed, long versionOffset = 0)
    {
        _versionOffset = versionOffset;
        _signal = new DesiredStateChangeSignal(seed with { Version = seed.Version + versionOffset });
    }

    public LeaderLeaseSource Leadership { get; } = new();

    public bool Disposed { get; private set; }

    public VersionedDesiredState Current => _signal.Current;

    public LeaderLease? CurrentLease => Leadership.CurrentLease;

    public ValueTask<StoreWriteResult> PutAsync(DesiredState state, long? expectedVersion = null, CancellationToken cancellationToken = default)
    {
        var current = Current;
        if (expectedVersion is { } expected && expected != current.Version)
        {
            return ValueTask.FromResult(new StoreWriteResult { Status = StoreWriteStatus.VersionConflict, Current = current });
        }
        return ValueTask.FromResult(new StoreWriteResult { Status = StoreWriteStatus.Applied, Current = ApplyReplicated(state) });
    }

    /// <summary>A write that reached this node through replication, not through <see cref="PutAsync"/>.</summary>
    public VersionedDesiredState ApplyReplicated(DesiredState state)
    {
        var next = new VersionedDesiredState(Current.Version + 1, state, DateTimeOffset.UnixEpoch);
        _signal.Publish(next);
        return next;
    }

    public ValueTask<VersionedDesiredState> WaitForChangeAsync(long knownVersion, CancellationToken cancellationToken = default) =>
        _signal.WaitForChangeAsync(knownVersion, cancellationToken);

    public ValueTask<ClusterStatus> GetClusterStatusAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(new ClusterStatus
        {
            Mode = NodeMode.Clustered,
            Store = "fake",
            Enabled = true,
            State = CurrentLease is null ? "follower" : "leader",
            IsLeader = CurrentLease is not null,
            QuorumStatus = "available",
        });

    public ValueTask<NodeClusterStatus> GetNodeStatusAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(new NodeClusterStatus { State = "clustered", RaftDataDir = "fake", Mode = NodeMode.Clustered });

    public ValueTask<LeaderLease> WaitForLeaseAsync(CancellationToken cancellationToken = default) => Leadership.WaitForLeaseAsync(cancellationToken);

    public void Dispose()
    {
        Disposed = true;
        Leadership.Dispose();
    }
}
