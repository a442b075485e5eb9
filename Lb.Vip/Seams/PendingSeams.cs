namespace Lb.Vip.Seams;

// Stand-ins for the Lb.Core cluster seams being added on branch `seams` (leadership with a lease, VIP status view);
// same shapes, replaced by the real ones at merge.

internal interface ILeadershipView
{
    LeaderLease? CurrentLease { get; }

    ValueTask<LeaderLease> WaitForLeaseAsync(CancellationToken cancellationToken = default);
}

internal sealed class LeaderLease(long term, DateTimeOffset acquiredAt, CancellationToken token)
{
    public long Term { get; } = term;

    public DateTimeOffset AcquiredAt { get; } = acquiredAt;

    public CancellationToken Token { get; } = token;

    public bool IsValid => !Token.IsCancellationRequested;
}

internal sealed record VipStatus
{
    public bool Enabled { get; init; }
    public string? Interface { get; init; }
    public string? Address { get; init; }
    public bool Owned { get; init; }
    public string? LastError { get; init; }
    public DateTimeOffset? LastTransitionAt { get; init; }
}

internal interface IVipStatusView
{
    VipStatus Current { get; }
}
