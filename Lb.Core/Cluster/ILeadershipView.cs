namespace Lb.Core.Cluster;

/// <summary>
/// Whether this node leads, as a lease. Standalone nodes always lead (one lease that ends only when the node hands
/// over to a clustered store); the Raft store grants a lease when it becomes leader and cancels it when leadership
/// or its quorum is lost.
/// </summary>
public interface ILeadershipView
{
    /// <summary>The lease this node holds now, or null when it does not lead.</summary>
    LeaderLease? CurrentLease { get; }

    /// <summary>Completes with a valid lease as soon as this node leads (at once if it does now).</summary>
    ValueTask<LeaderLease> WaitForLeaseAsync(CancellationToken cancellationToken = default);
}
