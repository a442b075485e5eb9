using Lb.Core.Cluster;

namespace Lb.Core.Tests.Cluster;

public sealed class LeaderLeaseTests
{
    [Fact]
    public async Task A_waiter_gets_the_lease_when_leadership_is_granted()
    {
        using var source = new LeaderLeaseSource();
        var waiting = source.WaitForLeaseAsync(TestContext.Current.CancellationToken).AsTask();
        Assert.False(waiting.IsCompleted);
        Assert.Null(source.CurrentLease);

        var granted = source.Grant(term: 3, DateTimeOffset.UnixEpoch);

        var lease = await waiting;
        Assert.Same(granted, lease);
        Assert.Equal(3, lease.Term);
        Assert.True(lease.IsValid);
        Assert.Same(lease, source.CurrentLease);
    }

    [Fact]
    public void Losing_leadership_cancels_the_lease_token_and_runs_the_holders_callbacks()
    {
        using var source = new LeaderLeaseSource();
        var lease = source.Grant(1, DateTimeOffset.UnixEpoch);
        var released = false;
        using var registration = lease.Token.Register(() => released = true);

        source.Revoke();

        Assert.True(released);
        Assert.False(lease.IsValid);
        Assert.True(lease.Token.IsCancellationRequested);
        Assert.Null(source.CurrentLease);
    }

    [Fact]
    public void A_new_term_revokes_the_previous_lease_before_it_grants_the_next()
    {
        using var source = new LeaderLeaseSource();
        var first = source.Grant(1, DateTimeOffset.UnixEpoch);
        bool? secondExistedWhenFirstEnded = null;
        using var registration = first.Token.Register(() => secondExistedWhenFirstEnded = source.CurrentLease is not null);

        var second = source.Grant(2, DateTimeOffset.UnixEpoch);

        Assert.False(first.IsValid);
        Assert.True(second.IsValid);
        Assert.False(secondExistedWhenFirstEnded);
    }

    [Fact]
    public async Task A_waiter_after_a_revoke_waits_for_the_next_grant()
    {
        using var source = new LeaderLeaseSource();
        source.Grant(1, DateTimeOffset.UnixEpoch);
        source.Revoke();

        var waiting = source.WaitForLeaseAsync(TestContext.Current.CancellationToken).AsTask();
        Assert.False(waiting.IsCompleted);
        source.Grant(2, DateTimeOffset.UnixEpoch);
        Assert.Equal(2, (await waiting).Term);
    }
}
