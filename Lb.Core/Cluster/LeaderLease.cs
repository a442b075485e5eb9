namespace Lb.Core.Cluster;

/// <summary>
/// Proof that this node leads, valid until <see cref="Token"/> is cancelled. Whoever acts only on the leader (the
/// VIP controller) holds the lease and stops the moment the token fires: a leader that loses its quorum, steps down
/// or hands the node over to another store cancels it before anyone else can be granted a lease.
/// </summary>
public sealed class LeaderLease
{
    /// <summary>Creates a lease that ends when <paramref name="token"/> is cancelled.</summary>
    /// <param name="term">The term (or epoch) the lease belongs to; 0 on a standalone node.</param>
    /// <param name="acquiredAt">When this node became leader.</param>
    /// <param name="token">Cancelled when the lease is lost.</param>
    public LeaderLease(long term, DateTimeOffset acquiredAt, CancellationToken token)
    {
        Term = term;
        AcquiredAt = acquiredAt;
        Token = token;
    }

    /// <summary>The term (or epoch) the lease belongs to; 0 on a standalone node.</summary>
    public long Term { get; }

    /// <summary>When this node became leader.</summary>
    public DateTimeOffset AcquiredAt { get; }

    /// <summary>Cancelled when the lease is lost; never cancelled again after that.</summary>
    public CancellationToken Token { get; }

    /// <summary>True until the lease is lost.</summary>
    public bool IsValid => !Token.IsCancellationRequested;
}
